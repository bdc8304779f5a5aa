// The public part of the core: what every construct's props and results use. The builders,
// validator, defaults and nag helpers in this folder are internal.
export type { AlarmConfig, AlarmsProps, MessagingPatternProps } from './alarms';
export { MessagingPatternsError } from './errors';
export type { Problem } from './errors';
export { MessagingPattern } from './pattern';
export type { ConnectOptions, IMessagingDashboard } from './pattern';
export type { QueueInputProps } from './queue-builder';

export { MessagingDashboard } from './messaging-dashboard';
export type { MessagingDashboardProps } from './messaging-dashboard';

export { StreamPipeline } from './stream-pipeline';
export type { StreamPipelineProps } from './stream-pipeline';

import * as events from 'aws-cdk-lib/aws-events';

/** CDK's EventPattern field names and the names EventBridge uses for them. */
const FIELD_NAMES: Record<string, string> = { detailType: 'detail-type' };

/** An EventPattern as EventBridge's JSON (field names renamed; values, Match tokens included, as given). */
export function renderEventPattern(pattern: events.EventPattern): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pattern)) {
    if (value !== undefined) out[FIELD_NAMES[key] ?? key] = value;
  }
  return out;
}

/** True when an EventPattern has no field at all: EventBridge rejects an empty pattern. */
export function isEmptyPattern(pattern: events.EventPattern | undefined): boolean {
  return pattern === undefined || Object.values(pattern).every((v) => v === undefined);
}

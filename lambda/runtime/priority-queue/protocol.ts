/**
 * What producers and consumers of a priority queue agree on. Kept apart from the producer so that a
 * consumer bundle does not pull in the SQS client.
 */
import { MESSAGE_ATTRIBUTE } from '../../../lib/core/wire';

/** Name of the message attribute that carries a message's priority level. */
export const PRIORITY_ATTRIBUTE = MESSAGE_ATTRIBUTE.priority;

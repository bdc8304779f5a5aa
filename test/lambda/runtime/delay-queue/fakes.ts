/**
 * In-memory stand-ins for the SQS and EventBridge Scheduler clients, for unit tests of the delay
 * queue producer. They keep state (sent messages, schedules by group and name) and raise the
 * service's own exception types. The integration test runs the producer against the emulator.
 */
import { ConflictException, ResourceNotFoundException, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export class FakeSqs {
  public readonly sent: Input[] = [];
  public readonly client = {
    send: async (command: { constructor: { name: string }; input: Input }) => {
      if (command.constructor.name !== 'SendMessageCommand') throw new Error(`FakeSqs: ${command.constructor.name} is not supported`);
      this.sent.push(command.input);
      return { MessageId: `m-${this.sent.length}` };
    },
  } as unknown as SQSClient;
}

export class FakeScheduler {
  /** Schedules by `group/name`. */
  public readonly schedules = new Map<string, Input>();
  public readonly calls: string[] = [];
  /** An error the next call of this command throws. */
  public readonly failNext = new Map<string, Error>();
  /** Called after a ConflictException, before the next GetSchedule: lets a test delete the schedule in between. */
  public onConflict?: () => void;

  public readonly client = {
    send: async (command: { constructor: { name: string }; input: Input }) => {
      const name = command.constructor.name;
      const input = command.input;
      this.calls.push(name);
      const failure = this.failNext.get(name);
      if (failure) {
        this.failNext.delete(name);
        throw failure;
      }
      const key = `${input.GroupName ?? 'default'}/${input.Name}`;
      switch (name) {
        case 'CreateScheduleCommand':
          if (this.schedules.has(key)) {
            this.onConflict?.();
            throw new ConflictException({
              Message: `Schedule ${input.Name} already exists.`,
              message: `Schedule ${input.Name} already exists.`,
              $metadata: {},
            });
          }
          this.schedules.set(key, input);
          return { ScheduleArn: `arn:aws:scheduler:eu-west-1:111122223333:schedule/${key}` };
        case 'GetScheduleCommand':
          if (!this.schedules.has(key))
            throw new ResourceNotFoundException({
              Message: `Schedule ${input.Name} does not exist.`,
              message: `Schedule ${input.Name} does not exist.`,
              $metadata: {},
            });
          return this.schedules.get(key);
        case 'DeleteScheduleCommand':
          if (!this.schedules.delete(key))
            throw new ResourceNotFoundException({
              Message: `Schedule ${input.Name} does not exist.`,
              message: `Schedule ${input.Name} does not exist.`,
              $metadata: {},
            });
          return {};
        default:
          throw new Error(`FakeScheduler: ${name} is not supported`);
      }
    },
  } as unknown as SchedulerClient;
}

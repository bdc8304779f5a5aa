import {
  PRIORITY_ATTRIBUTE,
  PriorityQueueConfigurationError,
  PriorityQueueProducer,
  UnknownPriorityError,
  parsePriorityQueueConfig,
  priorityOf,
} from '../../../../lambda/runtime/priority-queue';
import { sqsRecord } from '../../../helpers/events';
import { FakeSqs } from './fakes';

function setup() {
  const sqs = new FakeSqs();
  const config = { levels: ['high', 'normal', 'low'].map((name) => ({ name, queueUrl: sqs.url(name) })), defaultLevel: 'normal' };
  return { sqs, config, producer: new PriorityQueueProducer({ config, client: sqs.client }) };
}

const attributeOf = (sqs: FakeSqs, level: string) =>
  (sqs.queues.get(sqs.url(level)) ?? []).map((m) => m.messageAttributes[PRIORITY_ATTRIBUTE]?.StringValue);

describe('Class: PriorityQueueProducer', () => {
  describe('Method: send', () => {
    it('sends to the queue of the given priority and stamps the priority attribute', async () => {
      // Prepare
      const { sqs, producer } = setup();
      // Act
      const res = await producer.send('{"taskId":"1"}', {
        priority: 'high',
        messageAttributes: { tenant: { DataType: 'String', StringValue: 't1' } },
      });
      // Assess
      expect(res).toEqual({ messageId: expect.stringMatching(/^m-/), priority: 'high' });
      expect(sqs.remaining('high')).toEqual(['{"taskId":"1"}']);
      const sent = sqs.calls[0].input;
      expect(sent.MessageAttributes).toEqual({
        tenant: { DataType: 'String', StringValue: 't1' },
        priority: { DataType: 'String', StringValue: 'high' },
      });
    });

    it('routes by the priority message attribute when no priority option is given', async () => {
      const { sqs, producer } = setup();
      await producer.send('x', { messageAttributes: { priority: { DataType: 'String', StringValue: 'low' } } });
      expect(sqs.remaining('low')).toEqual(['x']);
    });

    it('uses the default level when the message names none', async () => {
      const { sqs, producer } = setup();
      const res = await producer.send('x');
      expect(res.priority).toBe('normal');
      expect(attributeOf(sqs, 'normal')).toEqual(['normal']);
    });

    it('passes delaySeconds on', async () => {
      const { sqs, producer } = setup();
      await producer.send('x', { priority: 'low', delaySeconds: 30 });
      expect(sqs.calls[0].input.DelaySeconds).toBe(30);
    });

    it('throws UnknownPriorityError naming the levels, and sends nothing', async () => {
      const { sqs, producer } = setup();
      await expect(producer.send('x', { priority: 'urgent' })).rejects.toThrow(
        new UnknownPriorityError('urgent', ['high', 'normal', 'low']),
      );
      await expect(producer.send('x', { priority: 'urgent' })).rejects.toThrow(
        /unknown priority 'urgent': the levels are 'high', 'normal', 'low'/,
      );
      await expect(producer.send('x', { priority: 'urgent' })).rejects.toMatchObject({
        retryable: false,
        context: { priority: 'urgent', levels: ['high', 'normal', 'low'] },
      });
      expect(sqs.calls).toHaveLength(0);
    });

    it.each([-1, 901, 1.5])('fails with PriorityQueueConfigurationError for delaySeconds %p, sending nothing', async (delaySeconds) => {
      const { sqs, producer } = setup();
      await expect(producer.send('x', { delaySeconds })).rejects.toThrow(
        new RegExp(`delaySeconds must be an integer between 0 and 900 \\(given ${delaySeconds}\\)`),
      );
      await expect(producer.sendBatch([{ id: 'a', body: '1', delaySeconds }])).rejects.toThrow(PriorityQueueConfigurationError);
      expect(sqs.calls).toHaveLength(0);
    });
  });

  describe('Method: sendBatch', () => {
    it('groups entries by level in batches of 10', async () => {
      const { sqs, producer } = setup();
      const entries = [
        ...Array.from({ length: 12 }, (_, i) => ({ id: `h${i}`, body: `h${i}`, priority: 'high' })),
        ...Array.from({ length: 3 }, (_, i) => ({ id: `l${i}`, body: `l${i}`, priority: 'low' })),
        { id: 'd0', body: 'd0' },
      ];
      const res = await producer.sendBatch(entries);
      expect(res.failed).toEqual([]);
      expect(res.successful).toHaveLength(16);
      expect(sqs.remaining('high')).toHaveLength(12);
      expect(sqs.remaining('low')).toEqual(['l0', 'l1', 'l2']);
      expect(sqs.remaining('normal')).toEqual(['d0']);
      expect(sqs.calls.map((c) => (c.input.Entries as unknown[]).length).sort()).toEqual([1, 10, 2, 3]);
      expect(attributeOf(sqs, 'low')).toEqual(['low', 'low', 'low']);
    });

    it('returns the entries SQS rejected, with their level, for a retry', async () => {
      const { sqs, producer } = setup();
      sqs.failEntryIds.add('b');
      const res = await producer.sendBatch([
        { id: 'a', body: 'a', priority: 'high' },
        { id: 'b', body: 'b', priority: 'high' },
      ]);
      expect(res.successful.map((s) => s.id)).toEqual(['a']);
      expect(res.failed).toEqual([{ id: 'b', priority: 'high', code: 'InternalError', message: 'try again', senderFault: false }]);
    });

    it('reports a whole chunk as failed when its request fails', async () => {
      const { producer } = setup();
      const broken = new PriorityQueueProducer({
        config: producer.config,
        client: { send: async () => Promise.reject(Object.assign(new Error('down'), { name: 'ServiceUnavailable' })) } as never,
      });
      const res = await broken.sendBatch([{ id: 'a', body: 'a', priority: 'low' }]);
      expect(res.failed).toEqual([{ id: 'a', priority: 'low', code: 'ServiceUnavailable', message: 'down', senderFault: false }]);
    });

    it('checks every priority before sending anything', async () => {
      const { sqs, producer } = setup();
      await expect(
        producer.sendBatch([
          { id: 'a', body: 'a', priority: 'high' },
          { id: 'b', body: 'b', priority: 'bogus' },
        ]),
      ).rejects.toThrow(UnknownPriorityError);
      expect(sqs.calls).toHaveLength(0);
    });

    it('rejects duplicate entry ids', async () => {
      const { producer } = setup();
      await expect(
        producer.sendBatch([
          { id: 'a', body: '1' },
          { id: 'a', body: '2' },
        ]),
      ).rejects.toThrow(/entry id 'a' is used more than once/);
    });

    it('rejects an entry id SQS would refuse, sending nothing', async () => {
      const { sqs, producer } = setup();
      await expect(
        producer.sendBatch([
          { id: 'ok', body: '1' },
          { id: 'not ok', body: '2' },
        ]),
      ).rejects.toThrow(/id must be up to 80 letters, digits, hyphens and underscores \(given 'not ok'\)/);
      expect(sqs.calls).toHaveLength(0);
    });
  });

  describe('configuration', () => {
    afterEach(() => {
      delete process.env.PRIORITY_QUEUE_CONFIG;
      delete process.env.JOBS;
    });

    it('reads the configuration from PRIORITY_QUEUE_CONFIG, or a named variable', () => {
      const { config } = setup();
      process.env.PRIORITY_QUEUE_CONFIG = JSON.stringify(config);
      expect(PriorityQueueProducer.fromEnvironment().levels).toEqual(['high', 'normal', 'low']);
      process.env.JOBS = JSON.stringify({ ...config, defaultLevel: 'low' });
      expect(PriorityQueueProducer.fromEnvironment('JOBS').resolvePriority()).toBe('low');
    });

    it('fails with a clear error when the variable is missing or malformed', () => {
      expect(() => PriorityQueueProducer.fromEnvironment()).toThrow(/environment variable PRIORITY_QUEUE_CONFIG is empty/);
      process.env.PRIORITY_QUEUE_CONFIG = '{';
      expect(() => PriorityQueueProducer.fromEnvironment()).toThrow(/is not valid JSON/);
      process.env.PRIORITY_QUEUE_CONFIG = '{"levels":[{"name":"a"}]}';
      expect(() => PriorityQueueProducer.fromEnvironment()).toThrow(PriorityQueueConfigurationError);
    });

    it('checks a configuration given as an object as it checks the JSON, and keeps its own copy', () => {
      const { sqs, config } = setup();
      expect(() => new PriorityQueueProducer({ config: { levels: [] }, client: sqs.client } as never)).toThrow(
        new PriorityQueueConfigurationError('levels', 'configuration must list levels as [{ name, queueUrl }, ...] (given {"levels":[]})'),
      );
      expect(() => new PriorityQueueProducer({ config: { ...config, defaultLevel: 'urgent' }, client: sqs.client })).toThrow(
        /defaultLevel 'urgent' is not one of the levels/,
      );
      const producer = new PriorityQueueProducer({ config, client: sqs.client });
      config.levels[0].name = 'changed';
      expect(producer.levels).toEqual(['high', 'normal', 'low']);
    });

    it('shows the variable as it is set when its levels are malformed', () => {
      process.env.PRIORITY_QUEUE_CONFIG = '{ "levels": [] }';
      expect(() => PriorityQueueProducer.fromEnvironment()).toThrow('(given { "levels": [] })');
    });

    it('fails when the default level is not a level, and defaults to the middle level when absent', () => {
      const url = (name: string) => `https://sqs.eu-west-1.amazonaws.com/111122223333/${name}`;
      expect(() => parsePriorityQueueConfig(JSON.stringify({ levels: [{ name: 'a', queueUrl: url('a') }], defaultLevel: 'b' }))).toThrow(
        /defaultLevel 'b' is not one of the levels/,
      );
      expect(
        parsePriorityQueueConfig(JSON.stringify({ levels: ['a', 'b', 'c'].map((name) => ({ name, queueUrl: url(name) })) })).defaultLevel,
      ).toBe('b');
    });

    it.each([
      [
        'levels[1].queueUrl',
        {
          levels: [
            { name: 'a', queueUrl: 'https://q/a' },
            { name: 'b', queueUrl: 'b-queue' },
          ],
        },
        /configuration: levels\[1\]\.queueUrl must be an http\(s\) URL \(given 'b-queue'\)/,
      ],
      ['levels[0].name', { levels: [{ name: '', queueUrl: 'https://q/a' }] }, /levels\[0\]\.name must be a non-empty string/],
      [
        'levels[1].name',
        {
          levels: [
            { name: 'a', queueUrl: 'https://q/a' },
            { name: 'a', queueUrl: 'https://q/b' },
          ],
        },
        /level 'a' is listed twice/,
      ],
    ])('fails with PriorityQueueConfigurationError for a malformed %s', (option, config, message) => {
      const make = () => new PriorityQueueProducer({ config: config as never });
      expect(make).toThrow(message);
      expect(make).toThrow(expect.objectContaining({ name: 'PriorityQueueConfigurationError', option, retryable: false }));
    });

    it('names the variable when its configuration is malformed, and checks the client', () => {
      process.env.PRIORITY_QUEUE_CONFIG = JSON.stringify({ levels: [{ name: 'a', queueUrl: 'nope' }] });
      expect(() => PriorityQueueProducer.fromEnvironment()).toThrow(
        /environment variable PRIORITY_QUEUE_CONFIG: levels\[0\]\.queueUrl must be an http\(s\) URL/,
      );
      expect(() => PriorityQueueProducer.fromEnvironment('')).toThrow(/variable must be a non-empty string/);
      const { config } = setup();
      expect(() => new PriorityQueueProducer({ config, client: {} as never })).toThrow(/client must be an AWS SDK v3 client/);
    });
  });
});

describe('Function: priorityOf', () => {
  it('reads the priority attribute of a record', () => {
    const record = sqsRecord('x');
    expect(priorityOf(record)).toBeUndefined();
    record.messageAttributes = { priority: { dataType: 'String', stringValue: 'high', stringListValues: [], binaryListValues: [] } };
    expect(priorityOf(record)).toBe('high');
  });
});

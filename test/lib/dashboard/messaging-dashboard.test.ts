import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { EventRouter, FanOut, MessagingDashboard, MessagingPatternsError, RouteTarget, WorkQueue } from '../../../lib';
import { inlineFunction, newStack, template } from '../../helpers/cdk';

interface Widget {
  readonly type: string;
  readonly width: number;
  readonly y: number;
  readonly properties: { markdown?: string; title?: string; annotations?: { alarms?: unknown[] }; metrics?: unknown[] };
}

/** The dashboard body of `stack`'s one dashboard, parsed. */
function body(stack: Stack): { start: string; widgets: Widget[] } {
  const dashboards = Object.values(template(stack).findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const resolved = stack.resolve(dashboards[0].Properties.DashboardBody) as unknown;
  // The body is a Fn::Join of strings and tokens: render the tokens as placeholders.
  const parts = (resolved as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join(''));
}

describe('MessagingDashboard', () => {
  it('gives each construct added through the dashboard prop a section: a title, a graph per alarm, a graph per key metric', () => {
    const stack = newStack();
    const ops = new MessagingDashboard(stack, 'Ops', { dashboardName: 'orders-ops' });
    const orders = new WorkQueue(stack, 'Orders', { consumer: inlineFunction(stack), dashboard: ops });
    template(stack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'orders-ops' });
    const { start, widgets } = body(stack);
    expect(start).toBe('-PT3H');
    expect(widgets[0]).toMatchObject({
      type: 'text',
      width: 24,
      properties: { markdown: expect.stringContaining('WorkQueue `TestStack/Orders`') },
    });
    const graphs = widgets.slice(1);
    expect(graphs.map((w) => w.properties.title)).toEqual([
      'DeadLetterQueueNotEmpty',
      'OldestMessageTooOld',
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesNotVisible',
    ]);
    // Alarm graphs draw the alarm; three graphs a row.
    expect(graphs[0].properties.annotations?.alarms).toHaveLength(1);
    expect(graphs.map((w) => w.width)).toEqual([8, 8, 8, 8]);
    expect(new Set(graphs.slice(0, 3).map((w) => w.y)).size).toBe(1);
    expect(graphs[3].y).toBeGreaterThan(graphs[0].y);
    expect(ops.patternsShown).toEqual([orders]);
  });

  it('shows alarms added with addAlarm after the construct joined the dashboard, and routes added later', () => {
    const stack = newStack();
    const ops = new MessagingDashboard(stack, 'Ops');
    const consumer = inlineFunction(stack);
    const orders = new WorkQueue(stack, 'Orders', { consumer, dashboard: ops });
    orders.addAlarm('ConsumerErrors', { metric: consumer.metricErrors(), threshold: 1, evaluationPeriods: 1 });
    const router = new EventRouter(stack, 'Router');
    ops.addPattern(router);
    ops.addPattern(router); // once only
    router.addRoute('Billing', { eventPattern: { source: ['shop'] }, targets: [RouteTarget.queue(new sqs.Queue(stack, 'Q'))] });
    const titles = body(stack).widgets.map((w) => w.properties.title ?? w.properties.markdown);
    expect(titles).toContain('ConsumerErrors');
    expect(titles.filter((t) => String(t).includes('EventRouter'))).toHaveLength(1);
    expect(titles).toEqual(expect.arrayContaining(['EventsLost', 'MatchedEvents', 'FailedInvocations']));
  });

  it('shows every alarm of a construct, those of its subscriptions included, and no graph for one turned off', () => {
    const stack = newStack();
    const ops = new MessagingDashboard(stack, 'Ops', { start: '-P1D', periodOverride: cloudwatch.PeriodOverride.INHERIT });
    const fanOut = new FanOut(stack, 'Orders', { dashboard: ops, alarms: { overrides: { OldestMessageTooOld: { enabled: false } } } });
    fanOut.addQueueSubscription('Billing');
    const dashboard = body(stack) as { start: string; periodOverride?: string; widgets: Widget[] };
    expect(dashboard.start).toBe('-P1D');
    expect(dashboard.periodOverride).toBe('inherit');
    const titles = dashboard.widgets.map((w) => w.properties.title);
    expect(titles).toEqual(
      expect.arrayContaining(['NotificationsFailed', 'DeadLetterQueueNotEmpty', 'SubscriptionDeadLetterQueueNotEmpty']),
    );
    expect(titles).not.toContain('OldestMessageTooOld');
  });

  it('fails on a bad name or start', () => {
    const stack = newStack();
    expect(() => new MessagingDashboard(stack, 'A', { dashboardName: 'no spaces' })).toThrow(/dashboardName must be 1 to 255 letters/);
    expect(() => new MessagingDashboard(stack, 'B', { start: '3 hours' })).toThrow(MessagingPatternsError);
  });
});

/**
 * MessagingDashboard end to end: the dashboard deployed with CloudFormation into LocalStack holds
 * a section for each construct added to it, with graphs of the construct's deployed alarms.
 */
import { CloudWatchClient, DescribeAlarmsCommand, GetDashboardCommand } from '@aws-sdk/client-cloudwatch';
import { CfnOutput } from 'aws-cdk-lib';
import { MessagingDashboard, WorkQueue } from '../../lib';
import { KitFunction } from '../../lib/core/kit-function';
import { requireHealthyEmulator } from '../harness/canary-gate';
import { type DeployedStack, deployStack } from '../harness/deploy';
import { clientConfig } from '../harness/env';

describe('MessagingDashboard end to end', () => {
  let stack: DeployedStack;

  beforeAll(async () => {
    requireHealthyEmulator();
    stack = await deployStack('dashboard', (s) => {
      const ops = new MessagingDashboard(s, 'Ops');
      const consumer = new KitFunction(s, 'Consumer', { handler: 'work-queue/consumer' });
      const orders = new WorkQueue(s, 'Orders', { consumer, dashboard: ops });
      new CfnOutput(s, 'DashboardName', { value: ops.dashboard.ref });
      new CfnOutput(s, 'QueueName', { value: orders.queue.queueName });
      new CfnOutput(s, 'AlarmNames', { value: orders.alarms.map((a) => a.alarmName).join(',') });
    });
  }, 600_000);

  afterAll(async () => {
    await stack?.destroy();
  }, 300_000);

  it("holds the work queue's section: its deployed alarms drawn, its queue graphed", async () => {
    const cloudwatch = new CloudWatchClient(clientConfig());
    const dashboard = await cloudwatch.send(new GetDashboardCommand({ DashboardName: stack.outputs.DashboardName }));
    const body = JSON.parse(dashboard.DashboardBody!) as { widgets: Array<{ type: string; properties: Record<string, unknown> }> };
    expect(body.widgets[0]).toMatchObject({ type: 'text', properties: { markdown: expect.stringContaining('WorkQueue') } });

    const alarmNames = stack.outputs.AlarmNames.split(',');
    const alarms = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: alarmNames }));
    const arns = (alarms.MetricAlarms ?? []).map((a) => a.AlarmArn);
    expect(arns).toHaveLength(2);
    const drawn = body.widgets.flatMap((w) => (w.properties.annotations as { alarms?: string[] } | undefined)?.alarms ?? []);
    expect(drawn.sort()).toEqual([...arns].sort());
    expect(JSON.stringify(body)).toContain(stack.outputs.QueueName);
  }, 60_000);
});

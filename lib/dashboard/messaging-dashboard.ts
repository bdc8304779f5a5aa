import { Lazy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { DASHBOARD_START, DASHBOARD_WIDGET_HEIGHT, DASHBOARD_WIDGETS_PER_ROW } from '../core/defaults';
import { IMessagingDashboard, MessagingPattern } from '../core/pattern';
import { DASHBOARD_GRID_WIDTH } from '../core/limits';
import { PropsValidator } from '../core/validation';

/** Props of {@link MessagingDashboard}. */
export interface MessagingDashboardProps {
  /**
   * The dashboard's name.
   *
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;

  /**
   * The time range the dashboard opens on, as CloudWatch takes it (`-PT3H`, `-P1D`).
   *
   * @default '-PT3H'
   */
  readonly start?: string;

  /**
   * Whether graphs follow the dashboard's period setting or keep their metrics' own periods.
   *
   * @default PeriodOverride.AUTO - CloudWatch's default
   */
  readonly periodOverride?: cloudwatch.PeriodOverride;
}

/**
 * One CloudWatch dashboard for the kit's constructs, in the spirit of cdk-monitoring-constructs:
 * each construct added to it (with the `dashboard` prop every construct takes, or `addPattern`)
 * gets a section with a graph of each of its alarms (threshold drawn in) — queue depth and age,
 * dead-letter depth, publish failures, iterator age and offset lag, saga outcomes, and the alarms
 * added with `addAlarm` — and its key metrics (`dashboardMetrics`).
 *
 * Sections are laid out when the app is synthesized, so a construct may be added before or after it
 * has created its alarms.
 *
 * @example
 * const ops = new MessagingDashboard(this, 'Ops', { dashboardName: 'orders' });
 * new WorkQueue(this, 'Orders', { consumer, dashboard: ops });
 * ops.addPattern(existingRouter);
 */
export class MessagingDashboard extends Construct implements IMessagingDashboard {
  /** The dashboard. */
  public readonly dashboard: cloudwatch.CfnDashboard;
  private readonly patterns: MessagingPattern[] = [];

  constructor(scope: Construct, id: string, props: MessagingDashboardProps = {}) {
    super(scope, id);
    const v = new PropsValidator(this);
    v.matches('dashboardName', props.dashboardName, /^[A-Za-z0-9_-]{1,255}$/, '1 to 255 letters, digits, - or _');
    v.matches('start', props.start, /^-P(?:\d+[DWMY])*(?:T(?:\d+[HMS])+)?$/, "a negative ISO 8601 duration such as '-PT3H' or '-P7D'");
    v.throwIfInvalid();

    this.dashboard = new cloudwatch.CfnDashboard(this, 'Resource', {
      dashboardName: props.dashboardName,
      dashboardBody: Lazy.string({
        produce: () => {
          const column = new cloudwatch.Column(...this.patterns.flatMap((p) => sectionOf(p)));
          column.position(0, 0);
          return Stack.of(this).toJsonString({
            start: props.start ?? DASHBOARD_START,
            periodOverride: props.periodOverride,
            widgets: column.toJson(),
          });
        },
      }),
    });
  }

  /** The constructs on the dashboard, in the order they were added. */
  public get patternsShown(): MessagingPattern[] {
    return [...this.patterns];
  }

  /** Adds a section for `pattern` (a second add of the same construct is ignored). */
  public addPattern(pattern: MessagingPattern): void {
    if (!this.patterns.includes(pattern)) this.patterns.push(pattern);
  }
}

/** A construct's section: a title, a graph per alarm (threshold drawn in), a graph per key metric. */
function sectionOf(pattern: MessagingPattern): cloudwatch.IWidget[] {
  const width = DASHBOARD_GRID_WIDTH / DASHBOARD_WIDGETS_PER_ROW;
  const height = DASHBOARD_WIDGET_HEIGHT;
  const title = new cloudwatch.TextWidget({
    markdown: `### ${pattern.constructor.name} \`${pattern.node.path}\``,
    width: DASHBOARD_GRID_WIDTH,
    height: 1,
  });
  const alarms = pattern.alarms.map((alarm) => new cloudwatch.AlarmWidget({ alarm, title: alarm.node.id, width, height }));
  const metrics = pattern.dashboardMetrics.map(
    (metric) =>
      new cloudwatch.GraphWidget({ title: (metric as Partial<cloudwatch.Metric>).metricName ?? 'metric', left: [metric], width, height }),
  );
  const graphs = [...alarms, ...metrics];
  const rows: cloudwatch.IWidget[] = [];
  for (let i = 0; i < graphs.length; i += DASHBOARD_WIDGETS_PER_ROW)
    rows.push(new cloudwatch.Row(...graphs.slice(i, i + DASHBOARD_WIDGETS_PER_ROW)));
  return [title, ...rows];
}

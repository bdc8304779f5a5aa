import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { AlarmsProps, MessagingPatternProps, addAlarmActions } from './alarms';

/** Options of a construct's `connectX(fn)` methods. */
export interface ConnectOptions {
  /**
   * The environment variable that receives the configuration, for a function connected to two
   * constructs of the same kind.
   *
   * @default - the name the run-time helper's `fromEnvironment()` reads by default
   */
  readonly environmentVariable?: string;
}

/** A dashboard the kit's constructs add themselves to (`MessagingDashboard`). */
export interface IMessagingDashboard {
  /** Adds a section for `pattern`: its alarms and key metrics. */
  addPattern(pattern: MessagingPattern): void;
}

/**
 * The base of every construct in the kit: the alarms it created (`alarms`), and `addAlarm` for
 * alarms of one's own, wired to the same topic and actions as the kit's.
 */
export abstract class MessagingPattern extends Construct {
  /** @internal */
  protected readonly _alarmsProps: AlarmsProps;
  private readonly shownMetrics: cloudwatch.IMetric[] = [];

  constructor(scope: Construct, id: string, props: MessagingPatternProps = {}) {
    super(scope, id);
    this._alarmsProps = props.alarms ?? {};
    // The dashboard lays its sections out at synth time, when this construct is complete.
    props.dashboard?.addPattern(this);
  }

  /** The key metrics a dashboard shows for this construct besides its alarms (queue depth, messages in flight...). */
  public get dashboardMetrics(): cloudwatch.IMetric[] {
    return [...this.shownMetrics];
  }

  /**
   * Shows `metrics` on the dashboards this construct is on.
   *
   * @internal
   */
  protected _showOnDashboard(...metrics: cloudwatch.IMetric[]): void {
    this.shownMetrics.push(...metrics);
  }

  /** Every alarm of this construct: the kit's (those not turned off) and those added with {@link addAlarm}. */
  public get alarms(): cloudwatch.Alarm[] {
    return this.node.findAll().filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm);
  }

  /**
   * Adds an alarm of your own to this construct, notifying the construct's `alarmTopic` and
   * `alarmActions` when it fires and when it clears.
   *
   * @example
   * orders.addAlarm('ConsumerThrottled', { metric: consumer.metricThrottles(), threshold: 1, evaluationPeriods: 1 });
   */
  public addAlarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const scope = (this.node.tryFindChild('Alarms') as Construct | undefined) ?? new Construct(this, 'Alarms');
    const alarm = new cloudwatch.Alarm(scope, id, props);
    addAlarmActions(alarm, this._alarmsProps);
    return alarm;
  }
}

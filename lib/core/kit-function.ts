import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { dependOnPoliciesOf } from './dependencies';
import { KIT_FUNCTION_MEMORY_MB, KIT_FUNCTION_TIMEOUT, KIT_LOG_RETENTION } from './defaults';
import { handlerCode } from './handler-code';

/** Runtime of the functions the kit creates. Handlers are compiled for Node.js 20 and later. */
export const KIT_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Props of {@link KitFunction}. */
export interface KitFunctionProps {
  /** The pre-bundled handler, as `<pattern>/<handler>` (e.g. `work-queue/consumer`). */
  readonly handler: string;
  /** Further function props, merged over the kit's defaults. `code`, `handler` and `runtime` are the kit's. */
  readonly functionProps?: Partial<Omit<lambda.FunctionProps, 'code' | 'handler' | 'logGroup' | 'logRetention'>>;
  /**
   * How long the function's logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Why this function needs no dead-letter queue or failure destination for asynchronous
   * invocations: it is invoked only synchronously (event source mappings, Step Functions, direct
   * calls), or a lost asynchronous invocation loses nothing. Acknowledges cdk-nag's
   * `Serverless-LambdaDLQ` and `Serverless-LambdaAsyncFailureDestination` with this reason.
   *
   * @default - the rules are not acknowledged
   */
  readonly synchronousOnlyReason?: string;
}

/**
 * A Lambda function running one of the kit's pre-bundled handlers, with the kit's defaults:
 * the newest Node.js runtime, 256 MB, a log group with one-month retention, X-Ray tracing, source
 * maps on, and the function's timeout in `timeout`.
 */
export class KitFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: KitFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? KIT_LOG_RETENTION,
    });
    // A role of its own with least privilege, instead of the AWSLambdaBasicExecutionRole managed policy.
    const role =
      props.functionProps?.role ??
      new iam.Role(scope, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of ${scope.node.path}/${id}`,
      });
    if (!props.functionProps?.role) {
      logGroup.grantWrite(role);
    }
    super(scope, id, {
      runtime: KIT_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: KIT_FUNCTION_MEMORY_MB,
      timeout: KIT_FUNCTION_TIMEOUT,
      tracing: lambda.Tracing.ACTIVE,
      ...props.functionProps,
      role,
      logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...props.functionProps?.environment,
      },
      code: handlerCode(props.handler),
      handler: 'index.handler',
    });
    // The function waits for its role's policies; the role itself it references already (W3005).
    dependOnPoliciesOf(this, this.role);
    if ((props.functionProps?.tracing ?? lambda.Tracing.ACTIVE) === lambda.Tracing.ACTIVE && !props.functionProps?.role) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so the statement CDK adds for tracing uses "*".',
      });
    }
    if (props.synchronousOnlyReason) {
      for (const id of ['Serverless-LambdaDLQ', 'Serverless-LambdaAsyncFailureDestination']) {
        Validations.of(this).acknowledge({ id, reason: props.synchronousOnlyReason });
      }
    }
  }
}

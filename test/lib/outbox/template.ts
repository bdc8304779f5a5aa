/** Template helpers of the outbox and event-store tests. */

/** A JSON environment variable rendered with `Fn::Join`, parsed, each reference as `${LogicalId}`. */
export function joinedJson(value: unknown): Record<string, unknown> {
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  const text = join
    ? join[1]
        .map((p) => {
          if (typeof p === 'string') return p;
          const ref = p as { Ref?: string; 'Fn::GetAtt'?: string[] };
          return `\${${ref.Ref ?? ref['Fn::GetAtt']?.join('.') ?? '?'}}`;
        })
        .join(join[0])
    : String(value);
  return JSON.parse(text) as Record<string, unknown>;
}

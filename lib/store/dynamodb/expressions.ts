/**
 * Builds DynamoDB expressions with placeholders for every name and value, so that task names with
 * spaces and DynamoDB's reserved words never need special care.
 */
export class ExpressionBuilder {
  private readonly names = new Map<string, string>();
  private readonly values = new Map<string, unknown>();

  /** `#n0.#n1` for a document path such as ['r', 'Host match', 's']. */
  path(...segments: string[]): string {
    return segments
      .map((segment) => {
        let placeholder = this.names.get(segment);
        if (!placeholder) {
          placeholder = `#n${this.names.size}`;
          this.names.set(segment, placeholder);
        }
        return placeholder;
      })
      .join('.');
  }

  value(value: unknown): string {
    const placeholder = `:v${this.values.size}`;
    this.values.set(placeholder, value);
    return placeholder;
  }

  get attributeNames(): Record<string, string> {
    return Object.fromEntries([...this.names].map(([name, placeholder]) => [placeholder, name]));
  }

  get attributeValues(): Record<string, unknown> | undefined {
    return this.values.size > 0 ? Object.fromEntries(this.values) : undefined;
  }
}

export const and = (...clauses: string[]): string => clauses.map((clause) => `(${clause})`).join(' AND ');
export const or = (...clauses: string[]): string => clauses.map((clause) => `(${clause})`).join(' OR ');

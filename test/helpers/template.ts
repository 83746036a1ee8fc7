/**
 * Reading a synthesized CloudFormation template: its resources, and the intrinsic functions CDK writes
 * (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select) resolved either to placeholders (template tests) or to
 * the names and ARNs of a local deployment (the bundled-workflow test).
 */
import { z } from 'zod';

export const cfnResourceSchema = z.looseObject({
  Type: z.string(),
  Properties: z.record(z.string(), z.unknown()).optional(),
  Metadata: z.record(z.string(), z.unknown()).optional(),
});
export type CfnResource = z.infer<typeof cfnResourceSchema>;

export const cfnTemplateSchema = z.looseObject({
  Resources: z.record(z.string(), cfnResourceSchema),
  Outputs: z.record(z.string(), z.looseObject({ Value: z.unknown() })).optional(),
});
export type CfnTemplate = z.infer<typeof cfnTemplateSchema>;

export interface IntrinsicResolver {
  /** A resource's Ref, or a pseudo parameter such as AWS::Region. */
  ref(logicalId: string): string;
  getAtt(logicalId: string, attribute: string): string;
}

/** Ref → `<Ref:Id>`, GetAtt → `<Id.Attribute>`: readable strings for template assertions. */
export const placeholders: IntrinsicResolver = {
  ref: (logicalId) => `<Ref:${logicalId}>`,
  getAtt: (logicalId, attribute) => `<${logicalId}.${attribute}>`,
};

const asString = (value: unknown, where: string): string => {
  if (typeof value !== 'string') throw new Error(`${where} resolved to ${JSON.stringify(value)}, not a string`);
  return value;
};

/** Resolves every intrinsic function in `value`; throws on one it does not know rather than guessing. */
export const resolveIntrinsics = (value: unknown, resolver: IntrinsicResolver): unknown => {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, resolver));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
    const [name, argument] = first;
    const resolve = (item: unknown) => resolveIntrinsics(item, resolver);
    switch (name) {
      case 'Ref':
        return resolver.ref(asString(argument, 'Ref'));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(argument) ? argument : asString(argument, name).split('.');
        return resolver.getAtt(asString(logicalId, name), asString(attribute, name));
      }
      case 'Fn::Join': {
        const [separator, parts] = z.tuple([z.string(), z.array(z.unknown())]).parse(argument);
        return parts.map((part) => asString(resolve(part), name)).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = z.tuple([z.union([z.number(), z.string()]), z.unknown()]).parse(argument);
        const items = z.array(z.unknown()).parse(resolve(list));
        return items[Number(index)];
      }
      case 'Fn::Split': {
        const [separator, text] = z.tuple([z.string(), z.unknown()]).parse(argument);
        return asString(resolve(text), name).split(separator);
      }
      case 'Fn::Sub': {
        const [text, variables = {}] = typeof argument === 'string' ? [argument] : z.tuple([z.string(), z.record(z.string(), z.unknown())]).parse(argument);
        return text.replace(/\$\{([^}]+)\}/g, (_, expression: string) => {
          if (expression in variables) return asString(resolve(variables[expression]), name);
          const [logicalId, attribute] = expression.split('.');
          if (!logicalId) throw new Error(`Fn::Sub: empty \${} in "${text}"`);
          return attribute ? resolver.getAtt(logicalId, attribute) : resolver.ref(logicalId);
        });
      }
      default:
        throw new Error(`${name} is not supported by this resolver`);
    }
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolveIntrinsics(item, resolver)]));
};

export const resourcesOfType = (template: CfnTemplate, type: string): [string, CfnResource][] =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

export const resource = (template: CfnTemplate, logicalId: string): CfnResource => {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`the template has no resource ${logicalId}`);
  return found;
};

/** A string property that CDK may have written as an intrinsic (e.g. a JSON env var), resolved and parsed. */
export const resolvedJson = (value: unknown, resolver: IntrinsicResolver = placeholders): unknown =>
  JSON.parse(asString(resolveIntrinsics(value, resolver), 'value'));

/** A container image from the public ECR gallery at a release or a version line, never whatever `latest` is on the day. */
export const PINNED_PUBLIC_IMAGE = /^public\.ecr\.aws\/[\w./-]+:(?!latest$)[\w.-]+$/;

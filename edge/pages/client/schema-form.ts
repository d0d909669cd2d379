// The playground's form, derived from the OpenAPI schema of CreateGenerationRequest: one field
// per property (enums as choices, nested objects as groups, arrays of enums as check boxes,
// string maps as key/value rows, defaults filled in), and back from the form's values to a request
// body. Pure: no DOM, tested in Node.

export type JsonSchema = {
  type?: string;
  $ref?: string;
  enum?: string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  multipleOf?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minItems?: number;
  anyOf?: JsonSchema[];
};

interface FieldBase {
  /** Dotted path of the property, as the 400 envelope's `param` names it ("webhook.url"). */
  path: string;
  label: string;
  required: boolean;
  description: string;
}

export type Field =
  | (FieldBase & { kind: "text"; multiline: boolean; maxLength?: number; pattern?: string })
  | (FieldBase & {
      kind: "number";
      integer: boolean;
      min?: number;
      max?: number;
      step?: number;
      default?: number;
    })
  | (FieldBase & { kind: "choice"; options: string[]; default?: string })
  | (FieldBase & { kind: "choices"; options: string[] })
  | (FieldBase & { kind: "boolean" })
  | (FieldBase & { kind: "pairs" })
  | (FieldBase & { kind: "group"; fields: Field[] });

/** A form value: text, a number, a choice, checked options, pairs, or a group's values. */
export type FieldValue = string | number | boolean | string[] | [string, string][] | undefined;

const labelOf = (name: string) =>
  (name.charAt(0).toUpperCase() + name.slice(1)).replaceAll("_", " ");

/** The schema `$ref` points to in `components.schemas`, or the schema itself. */
export function resolve(schema: JsonSchema, components: Record<string, JsonSchema>): JsonSchema {
  if (schema.anyOf) return mergeAlternatives(schema, components);
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace("#/components/schemas/", "");
  const target = components[name];
  if (!target) throw new Error(`unknown schema ${schema.$ref}`);
  return { ...resolve(target, components), description: schema.description ?? target.description };
}

/**
 * Alternatives that are all objects (a style from an output or from the taste profile) become one
 * group of every property, none required: the user fills the alternative they mean and the
 * server's 400 names a mix. Other alternatives stay a plain text field.
 */
function mergeAlternatives(schema: JsonSchema, components: Record<string, JsonSchema>): JsonSchema {
  const alternatives = schema.anyOf!.map((s) => resolve(s, components));
  if (!alternatives.every((s) => s.type === "object" && s.properties)) {
    return { description: schema.description };
  }
  const properties: Record<string, JsonSchema> = {};
  for (const alternative of alternatives) {
    for (const [name, property] of Object.entries(alternative.properties!)) {
      properties[name] ??= property;
    }
  }
  return { type: "object", properties, required: [], description: schema.description };
}

/** The fields of an object schema, in the schema's property order. */
export function fieldsOf(
  schema: JsonSchema,
  components: Record<string, JsonSchema>,
  prefix = "",
): Field[] {
  const object = resolve(schema, components);
  return Object.entries(object.properties ?? {}).map(([name, raw]) => {
    const s = resolve(raw, components);
    const base: FieldBase = {
      path: prefix + name,
      label: labelOf(name),
      required: (object.required ?? []).includes(name),
      description: s.description ?? "",
    };
    if (s.enum) {
      return { ...base, kind: "choice", options: s.enum, default: s.default as string | undefined };
    }
    switch (s.type) {
      case "integer":
      case "number":
        return {
          ...base,
          kind: "number",
          integer: s.type === "integer",
          min: s.minimum,
          max: s.maximum,
          step: s.multipleOf ?? (s.type === "integer" ? 1 : 0.05),
          default: s.default as number | undefined,
        };
      case "boolean":
        return { ...base, kind: "boolean" };
      case "array": {
        const items = resolve(s.items ?? {}, components);
        if (items.enum) return { ...base, kind: "choices", options: items.enum };
        return { ...base, kind: "text", multiline: false };
      }
      case "object":
        if (s.properties)
          return { ...base, kind: "group", fields: fieldsOf(s, components, `${base.path}.`) };
        return { ...base, kind: "pairs" };
      default:
        return {
          ...base,
          kind: "text",
          multiline: (s.maxLength ?? 0) >= 500,
          maxLength: s.maxLength,
          pattern: s.pattern,
        };
    }
  });
}

/**
 * The request body of the form's values (`read(path)`): empty fields and values equal to their
 * default are left out (the server applies the same default), and a group when nothing in it is
 * left, so a prefilled default never sends half an object.
 */
export function bodyOf(
  fields: readonly Field[],
  read: (path: string) => FieldValue,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    const key = field.path.split(".").at(-1)!;
    const value = valueOf(field, read);
    if (value !== undefined) body[key] = value;
  }
  return body;
}

function valueOf(field: Field, read: (path: string) => FieldValue): unknown {
  const raw = read(field.path);
  switch (field.kind) {
    case "group": {
      const inner = bodyOf(field.fields, read);
      return Object.keys(inner).length === 0 ? undefined : inner;
    }
    case "text":
    case "choice":
      return typeof raw === "string" && raw.trim() !== "" ? raw : undefined;
    case "number": {
      if (raw === undefined || raw === "") return undefined;
      const n = Number(raw);
      if (n === field.default) return undefined;
      // A non-number goes as typed: the server's 400 names the field.
      return Number.isNaN(n) ? raw : n;
    }
    case "boolean":
      return raw === true ? true : undefined;
    case "choices":
      return Array.isArray(raw) && raw.length > 0 ? raw : undefined;
    case "pairs": {
      if (!Array.isArray(raw)) return undefined;
      const pairs = (raw as [string, string][]).filter(([k]) => k.trim() !== "");
      return pairs.length === 0 ? undefined : Object.fromEntries(pairs);
    }
  }
}

/** Every field, nested ones included, in form order. */
export function flatten(fields: readonly Field[]): Field[] {
  return fields.flatMap((f) => (f.kind === "group" ? [f, ...flatten(f.fields)] : [f]));
}

/**
 * The field a 400's `param` belongs to: itself, or its nearest ancestor ("metadata.k" is the
 * metadata field; "webhook.events.0" the events field). Null: show the error on the form.
 */
export function fieldForParam(fields: readonly Field[], param: string | undefined): Field | null {
  if (!param) return null;
  const all = new Map(flatten(fields).map((f) => [f.path, f]));
  const parts = param.split(".");
  for (let n = parts.length; n > 0; n -= 1) {
    const hit = all.get(parts.slice(0, n).join("."));
    if (hit) return hit;
  }
  return null;
}

// The generated form in the DOM: controls for the fields of schema-form.ts, their values, and the
// 400 envelope's message shown next to the field it names.

import { h } from "./dom.ts";
import { fieldForParam, flatten, type Field, type FieldValue } from "./schema-form.ts";

const idOf = (path: string) => `field-${path.replaceAll(".", "-")}`;

export function renderFields(fields: readonly Field[]): HTMLElement[] {
  return fields.map(renderField);
}

function renderField(field: Field): HTMLElement {
  const id = idOf(field.path);
  const error = h("p", { class: "field-error", id: `${id}-error`, role: "alert" });
  const help = field.description ? h("small", { class: "help" }, field.description) : null;
  if (field.kind === "group") {
    return h(
      "fieldset",
      { class: "field group", "data-field": field.path },
      h("legend", {}, field.label),
      help,
      ...renderFields(field.fields),
      error,
    );
  }
  const label = h(
    "label",
    { for: id },
    field.label,
    field.required ? h("span", { class: "req" }, " *") : null,
  );
  return h(
    "div",
    { class: `field ${field.kind}`, "data-field": field.path },
    label,
    control(field, id),
    help,
    error,
  );
}

function control(field: Exclude<Field, { kind: "group" }>, id: string): HTMLElement {
  const common = {
    id,
    name: field.path,
    "data-path": field.path,
    "aria-describedby": `${id}-error`,
  };
  switch (field.kind) {
    case "text":
      return field.multiline
        ? h("textarea", {
            ...common,
            rows: 3,
            maxlength: field.maxLength,
            required: field.required,
          })
        : h("input", { ...common, type: "text", maxlength: field.maxLength, spellcheck: false });
    case "number":
      return h("input", {
        ...common,
        type: "number",
        min: field.min,
        max: field.max,
        step: field.step,
        value: field.default,
        inputmode: field.integer ? "numeric" : "decimal",
      });
    case "choice":
      return h(
        "select",
        common,
        h("option", { value: "" }, field.default ? `(default: ${field.default})` : "(default)"),
        ...field.options.map((o) => h("option", { value: o }, o)),
      );
    case "choices":
      return h(
        "div",
        { ...common, class: "choices", role: "group" },
        ...field.options.map((o) =>
          h("label", { class: "choice" }, h("input", { type: "checkbox", value: o }), ` ${o}`),
        ),
      );
    case "boolean":
      return h("input", { ...common, type: "checkbox" });
    case "pairs": {
      const rows = h("div", { class: "pair-rows" });
      const add = h("button", { type: "button", class: "secondary small" }, "Add pair");
      const addRow = () =>
        rows.append(
          h(
            "div",
            { class: "pair" },
            h("input", { type: "text", placeholder: "key", "aria-label": `${field.label} key` }),
            h("input", {
              type: "text",
              placeholder: "value",
              "aria-label": `${field.label} value`,
            }),
          ),
        );
      add.addEventListener("click", addRow);
      return h("div", { ...common, class: "pairs" }, rows, add);
    }
  }
}

/** The value of the control for `path` in `form`. */
export function readField(form: HTMLElement, field: Field): FieldValue {
  const el = form.querySelector<HTMLElement>(`[data-path="${field.path}"]`);
  if (!el) return undefined;
  switch (field.kind) {
    case "boolean":
      return (el as HTMLInputElement).checked;
    case "choices":
      return [...el.querySelectorAll<HTMLInputElement>("input:checked")].map((i) => i.value);
    case "pairs":
      return [...el.querySelectorAll(".pair")].map((row) => {
        const [k, v] = row.querySelectorAll("input");
        return [k!.value, v!.value] as [string, string];
      });
    case "group":
      return undefined;
    default:
      return (el as HTMLInputElement).value;
  }
}

export function clearErrors(form: HTMLElement): void {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll(".invalid")) el.classList.remove("invalid");
}

/** Shows an error envelope's message next to the field its `param` names; false if none does. */
export function showFieldError(
  form: HTMLElement,
  fields: readonly Field[],
  error: { message: string; param?: string },
): boolean {
  const field = fieldForParam(fields, error.param);
  if (!field) return false;
  const box = form.querySelector<HTMLElement>(`[data-field="${field.path}"]`);
  const message = document.getElementById(`${idOf(field.path)}-error`);
  if (!box || !message) return false;
  box.classList.add("invalid");
  message.textContent = error.message;
  box.scrollIntoView({ block: "center" });
  return true;
}

export const allFields = flatten;

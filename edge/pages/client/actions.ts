// Actions on a generation that the page offers only when the served API has their routes (the
// extension point for feedback: like / report / refine appear once the document lists them).

export interface GenerationAction {
  label: string;
  method: "POST";
  /** Route template in the OpenAPI document. */
  route: string;
  body: Record<string, unknown>;
}

const CANDIDATES: GenerationAction[] = [
  { label: "Like", method: "POST", route: "/v1/generations/{id}/feedback", body: { kind: "like" } },
  {
    label: "Report",
    method: "POST",
    route: "/v1/generations/{id}/feedback",
    body: { kind: "report", reason: "other" },
  },
  { label: "Refine", method: "POST", route: "/v1/generations/{id}/refine", body: {} },
];

/** The actions whose route (and method) the served document has. Pure. */
export function availableActions(
  paths: Record<string, Record<string, unknown>>,
): GenerationAction[] {
  return CANDIDATES.filter((a) => paths[a.route]?.[a.method.toLowerCase()] !== undefined);
}

export const actionPath = (action: GenerationAction, id: string) =>
  action.route.replace("{id}", encodeURIComponent(id));

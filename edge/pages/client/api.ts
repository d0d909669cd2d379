// The pages' calls to the API of the edge that served them, with the key kept in sessionStorage
// (gone when the tab closes; never in localStorage or a cookie).

import { byId, h } from "./dom.ts";

const KEY_STORAGE = "genart.api_key";
const KEY_PATTERN = /^gk_(live|test)_[0-9A-Za-z]{32}$/;

export interface ApiErrorBody {
  type: string;
  code: string;
  message: string;
  param?: string;
}

export const storedKey = () => sessionStorage.getItem(KEY_STORAGE);

export async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const key = storedKey();
  if (key) headers.set("authorization", `Bearer ${key}`);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  return fetch(path, { ...init, headers });
}

/** The error envelope of a failed answer (a stand-in when the body is not one). */
export async function errorOf(res: Response): Promise<ApiErrorBody> {
  const body = (await res.json().catch(() => null)) as { error?: ApiErrorBody } | null;
  return body?.error ?? { type: "api_error", code: `http_${res.status}`, message: res.statusText };
}

/** The key box: paste a key, kept for this tab only. Calls `onChange` when it is set or cleared. */
export function mountKeyBox(onChange: () => void): void {
  const box = byId("key-box");
  const input = h("input", {
    id: "api-key",
    type: "password",
    placeholder: "gk_live_... or gk_test_...",
    autocomplete: "off",
    spellcheck: false,
    "aria-label": "API key",
  });
  const status = h("span", { class: "key-status", id: "key-status" });
  const save = h("button", { type: "button", id: "save-key" }, "Use key");
  const forget = h("button", { type: "button", class: "secondary" }, "Forget");
  const show = () => {
    const key = storedKey();
    status.textContent = key ? `${key.slice(0, 12)}… (this tab only)` : "no key";
  };
  save.addEventListener("click", () => {
    const key = input.value.trim();
    if (!KEY_PATTERN.test(key)) {
      status.textContent = "that is not a gk_live_ / gk_test_ key";
      return;
    }
    sessionStorage.setItem(KEY_STORAGE, key);
    input.value = "";
    show();
    onChange();
  });
  forget.addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    show();
    onChange();
  });
  box.append(h("label", { for: "api-key" }, "API key"), input, save, forget, status);
  show();
}

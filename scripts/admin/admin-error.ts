/** A refused admin command: a stable code (HTTP-like, e.g. `not_found`) and a message for people. */
export class AdminError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "AdminError";
    this.code = code;
  }
}

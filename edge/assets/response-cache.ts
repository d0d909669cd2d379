/** A response cache in front of the asset store: the Cache API on Workers. */
export interface ResponseCache {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
  /** Drops what is held for the request's URL (a project made private); true when it held one. */
  delete(request: Request): Promise<boolean>;
}

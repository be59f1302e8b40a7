// The admission-control Durable Object (single-use tokens, rate limits). Declared now so the binding and
// its SQLite migration ship with the first deploy; its behaviour lands with issue #3.
import { DurableObject } from "cloudflare:workers";

export class AdmissionControl extends DurableObject<Env> {}

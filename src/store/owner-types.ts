/**
 * What the owner-side areas of the store share: who acted on the owner's behalf, as their leaves
 * name it. The areas themselves (consent, objections, erasure, owner-report, owner-bindings)
 * each have their folder and contract; the composed `Store` (types.ts) extends them.
 */

/** Who changed something on the owner's behalf, as the leaf names them (ids, never names). */
export interface RightsActor {
  /** `owner-app`, `operator`, `cli`… */
  readonly source: string;
  /** The API key's id (never the key), when the change came through an API. */
  readonly apiKey: string | null;
  /** The owner binding's id (src/api/owner/binding.ts), when an owner acted. */
  readonly owner: string | null;
}

import { describe, expect, it } from "vitest";
import { incidentKey, incidentTtlSeconds, onFiring, parseIncident } from "../../src/alerts/incidents.ts";

const MIN = 60_000;
const COOLDOWN = 60 * MIN;

describe("onFiring: one incident, one message", () => {
  it("the first firing opens an incident and notifies", () => {
    expect(onFiring(undefined, 1_000, COOLDOWN)).toEqual({ notify: true, state: { opened_at: 1_000, last_fired_at: 1_000, notified_at: 1_000 } });
  });

  it("firing again within the cooldown of the last firing stays quiet and extends the incident", () => {
    const opened = onFiring(undefined, 0, COOLDOWN).state;
    const later = onFiring(opened, 55 * MIN, COOLDOWN);
    expect(later).toEqual({ notify: false, state: { opened_at: 0, last_fired_at: 55 * MIN, notified_at: 0 } });
    // Still the same incident two hours in, as long as it keeps firing.
    expect(onFiring({ ...later.state, last_fired_at: 110 * MIN }, 115 * MIN, COOLDOWN).notify).toBe(false);
  });

  it("a full cooldown without firing closes the incident: the next firing notifies again", () => {
    const state = { opened_at: 0, last_fired_at: 10 * MIN, notified_at: 0 };
    expect(onFiring(state, 10 * MIN + COOLDOWN - 1, COOLDOWN).notify).toBe(false);
    expect(onFiring(state, 10 * MIN + COOLDOWN, COOLDOWN)).toEqual({ notify: true, state: { opened_at: 70 * MIN, last_fired_at: 70 * MIN, notified_at: 70 * MIN } });
  });

  it("state parsing tolerates garbage (no state), and keys are per dataset and rule", () => {
    expect(parseIncident(null)).toBeUndefined();
    expect(parseIncident("{")).toBeUndefined();
    expect(parseIncident('{"opened_at":"x"}')).toBeUndefined();
    expect(parseIncident('{"opened_at":1,"last_fired_at":2,"notified_at":1,"extra":true}')).toEqual({ opened_at: 1, last_fired_at: 2, notified_at: 1 });
    expect(incidentKey("ci_credential_broker", "denials")).toBe("alerts:v1:incident:ci_credential_broker:denials");
  });

  it("KV expiration outlives the cooldown and respects KV's 60 s minimum", () => {
    expect(incidentTtlSeconds(COOLDOWN)).toBe(7200);
    expect(incidentTtlSeconds(10_000)).toBe(60);
  });
});

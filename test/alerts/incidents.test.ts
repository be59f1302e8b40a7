import { describe, expect, it } from "vitest";
import {
  incidentKey,
  incidentTtlSeconds,
  onFiring,
  parseIncident,
  subjectIncidentKey,
} from "../../src/alerts/incidents.ts";

const MIN = 60_000;
const COOLDOWN = 60 * MIN;

describe("onFiring: one incident, one message", () => {
  it("the first firing opens an incident and notifies", () => {
    expect(onFiring(undefined, 1_000, COOLDOWN, 60)).toEqual({
      notify: true,
      escalated: false,
      state: { opened_at: 1_000, last_fired_at: 1_000, notified_at: 1_000, notified_value: 60 },
    });
  });

  it("firing again within the cooldown of the last firing stays quiet and extends the incident", () => {
    const opened = onFiring(undefined, 0, COOLDOWN, 60).state;
    const later = onFiring(opened, 55 * MIN, COOLDOWN, 100);
    expect(later).toEqual({
      notify: false,
      escalated: false,
      state: { opened_at: 0, last_fired_at: 55 * MIN, notified_at: 0, notified_value: 60 },
    });
    // Still the same incident two hours in, as long as it keeps firing (and does not grow fourfold).
    expect(onFiring({ ...later.state, last_fired_at: 110 * MIN }, 115 * MIN, COOLDOWN, 239).notify).toBe(false);
  });

  it("a full cooldown without firing closes the incident: the next firing notifies again", () => {
    const state = { opened_at: 0, last_fired_at: 10 * MIN, notified_at: 0, notified_value: 60 };
    expect(onFiring(state, 10 * MIN + COOLDOWN - 1, COOLDOWN, 60).notify).toBe(false);
    expect(onFiring(state, 10 * MIN + COOLDOWN, COOLDOWN, 60)).toEqual({
      notify: true,
      escalated: false,
      state: { opened_at: 70 * MIN, last_fired_at: 70 * MIN, notified_at: 70 * MIN, notified_value: 60 },
    });
  });

  it("within the cooldown, a value grown fourfold since the last message notifies again (escalation), once per fourfold", () => {
    const open = { opened_at: 0, last_fired_at: 5 * MIN, notified_at: 0, notified_value: 60 };
    expect(onFiring(open, 10 * MIN, COOLDOWN, 239).notify).toBe(false);
    const spike = onFiring(open, 10 * MIN, COOLDOWN, 240);
    expect(spike).toEqual({
      notify: true,
      escalated: true,
      state: { opened_at: 0, last_fired_at: 10 * MIN, notified_at: 10 * MIN, notified_value: 240 },
    });
    expect(onFiring(spike.state, 15 * MIN, COOLDOWN, 900).notify).toBe(false);
    expect(onFiring(spike.state, 15 * MIN, COOLDOWN, 960).escalated).toBe(true);
    // State from before escalation existed (no notified_value): quiet, as it was.
    expect(onFiring({ opened_at: 0, last_fired_at: 5 * MIN, notified_at: 0 }, 10 * MIN, COOLDOWN, 10_000).notify).toBe(
      false,
    );
  });

  it("state parsing tolerates garbage (no state), and keys are per dataset and rule", () => {
    expect(parseIncident(null)).toBeUndefined();
    expect(parseIncident("{")).toBeUndefined();
    expect(parseIncident('{"opened_at":"x"}')).toBeUndefined();
    expect(parseIncident('{"opened_at":1,"last_fired_at":2,"notified_at":1,"extra":true}')).toEqual({
      opened_at: 1,
      last_fired_at: 2,
      notified_at: 1,
    });
    expect(parseIncident('{"opened_at":1,"last_fired_at":2,"notified_at":1,"notified_value":51}')).toEqual({
      opened_at: 1,
      last_fired_at: 2,
      notified_at: 1,
      notified_value: 51,
    });
    expect(incidentKey("ci_credential_broker", "denials")).toBe("alerts:v1:incident:ci_credential_broker:denials");
  });

  it("per-subject keys: bounded, distinct per subject, and the rule key without one", async () => {
    const a = await subjectIncidentKey("ds", "denials", "acme no_matching_rule");
    const b = await subjectIncidentKey("ds", "denials", "evil no_matching_rule");
    expect(a).toMatch(/^alerts:v1:incident:ds:denials:[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
    expect(await subjectIncidentKey("ds", "denials", "x".repeat(10_000))).toHaveLength(a.length);
    expect(await subjectIncidentKey("ds", "denials", undefined)).toBe("alerts:v1:incident:ds:denials");
  });

  it("KV expiration outlives the cooldown and respects KV's 60 s minimum", () => {
    expect(incidentTtlSeconds(COOLDOWN)).toBe(7200);
    expect(incidentTtlSeconds(10_000)).toBe(60);
  });
});

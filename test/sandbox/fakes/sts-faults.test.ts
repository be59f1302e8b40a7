// The STS emulator's injected faults (sandbox/fakes/sts-faults.ts): each answers as AWS does, once per injection, FIFO.
import { afterEach, describe, expect, it, vi } from "vitest";
import { ENDPOINT, ROLE, setup, signPost, assumeRoleParams, send, xmlValue } from "./sts-requests.ts";

describe("faults", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("answers queued faults first, in order, one per request, then normally", async () => {
    const { sts } = setup();
    sts.inject("throttle", 2);
    sts.inject("internal_error");
    sts.inject("service_unavailable");
    sts.inject("access_denied");
    const seen: Array<[number, string | undefined, string | undefined]> = [];
    for (let i = 0; i < 6; i++) {
      const answer = await send(sts, await signPost(assumeRoleParams()));
      seen.push([answer.status, answer.code, xmlValue(answer.body, "Type")]);
    }
    expect(seen).toEqual([
      [400, "Throttling", "Sender"],
      [400, "Throttling", "Sender"],
      [500, "InternalFailure", "Receiver"],
      [503, "ServiceUnavailable", "Receiver"],
      [403, "AccessDenied", "Sender"],
      [200, undefined, undefined],
    ]);
    expect(sts.requestCount).toBe(6);
    expect(sts.assumeRoleCalls).toHaveLength(1);
  });

  it("answers errors in AWS's XML shape with the request id and the ARNs in the message", async () => {
    const { sts } = setup();
    sts.inject("access_denied");
    const answer = await send(sts, await signPost(assumeRoleParams()));
    expect(answer.contentType).toBe("text/xml");
    expect(answer.body).toMatch(
      /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>AccessDenied<\/Code><Message>[^<]*<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/,
    );
    expect(xmlValue(answer.body, "Message")).toBe(
      `User: arn:aws:iam::000000000000:user/broker is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
    );
  });

  it("hangs until the request's signal aborts, then rejects with its reason", async () => {
    const { sts } = setup();
    sts.inject("hang");
    const controller = new AbortController();
    const signed = await signPost(assumeRoleParams());
    const pending = sts.handler(new Request(signed, { signal: controller.signal }));
    let settled = false;
    void pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    await Promise.resolve();
    expect(settled).toBe(false);
    const reason = new Error("attempt timed out");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect((await send(sts, await signPost(assumeRoleParams()))).status).toBe(200);
  });

  it("rejects at once when the signal has already aborted", async () => {
    const { sts } = setup();
    sts.inject("hang");
    const reason = new Error("already gone");
    await expect(
      sts.handler(new Request(ENDPOINT, { method: "POST", signal: AbortSignal.abort(reason) })),
    ).rejects.toBe(reason);
  });

  it("gives up a hang after 30 s when nothing aborts", async () => {
    vi.useFakeTimers();
    const { sts } = setup();
    sts.inject("hang");
    const pending = sts.handler(new Request(ENDPOINT, { method: "POST" }));
    const outcome = expect(pending).rejects.toThrow(/hang/);
    await vi.advanceTimersByTimeAsync(29_999);
    let settled = false;
    void pending.catch(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await outcome;
  });

  it("denyRole answers AccessDenied for that role only, naming caller and role", async () => {
    const { sts } = setup();
    const denied = "arn:aws:iam::123456789012:role/forbidden";
    sts.denyRole(denied);
    const answer = await send(sts, await signPost(assumeRoleParams({ RoleArn: denied })));
    expect([answer.status, answer.code]).toEqual([403, "AccessDenied"]);
    expect(xmlValue(answer.body, "Message")).toBe(
      `User: arn:aws:iam::000000000000:user/broker is not authorized to perform: sts:AssumeRole on resource: ${denied}`,
    );
    expect((await send(sts, await signPost(assumeRoleParams()))).status).toBe(200);
    expect(sts.assumeRoleCalls.map((call) => call.roleArn)).toEqual([ROLE]);
  });
});

import { describe, expect, it } from "vitest";
import { addressKey, addressKeys, UNKNOWN_ADDRESS_KEY } from "../../src/admission/client-address.ts";

describe("addressKey", () => {
  it.each([
    ["192.0.2.1", "v4:192.0.2.1"],
    [" 198.51.100.255 ", "v4:198.51.100.255"],
    ["0.0.0.0", "v4:0.0.0.0"],
    // IPv6: the /64, whatever the spelling.
    ["2001:db8:1:2:3:4:5:6", "v6:2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:ffff:ffff:ffff:ffff", "v6:2001:db8:1:2::/64"],
    ["2001:db8:1:2::1", "v6:2001:db8:1:2::/64"],
    ["2001:db8::1", "v6:2001:db8:0:0::/64"],
    ["::1", "v6:0:0:0:0::/64"],
    ["::", "v6:0:0:0:0::/64"],
    ["fe80::1%eth0", "v6:fe80:0:0:0::/64"],
    // IPv4-mapped IPv6 is the IPv4 client.
    ["::ffff:192.0.2.1", "v4:192.0.2.1"],
    ["::ffff:c000:0201", "v4:192.0.2.1"],
  ])("%s -> %s", (input, expected) => {
    expect(addressKey(input)).toBe(expected);
  });

  it("two hosts of one /64 share a key; neighbouring /64s do not", () => {
    expect(addressKey("2001:db8:aa:bb::1")).toBe(addressKey("2001:db8:aa:bb:ffff:1:2:3"));
    expect(addressKey("2001:db8:aa:bb::1")).not.toBe(addressKey("2001:db8:aa:bc::1"));
  });

  it.each([
    null,
    undefined,
    "",
    "   ",
    "unknown",
    "256.1.1.1",
    "1.2.3",
    "01.2.3.4",
    "1.2.3.4.5",
    "2001:db8:::1",
    "2001:db8::1::2",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "gggg::1",
    "::ffff:300.1.1.1",
    "12345::1",
  ])("%j -> the shared unknown key", (input) => {
    expect(addressKey(input)).toBe(UNKNOWN_ADDRESS_KEY);
  });
});

describe("addressKeys: the enclosing IPv6 /48", () => {
  it.each([
    ["2001:db8:1:2:3:4:5:6", "v6:2001:db8:1::/48"],
    ["2001:0DB8:0001:ffff::1", "v6:2001:db8:1::/48"],
    ["2001:db8::1", "v6:2001:db8:0::/48"],
    ["::1", "v6:0:0:0::/48"],
  ])("%s -> %s", (input, expected) => {
    expect(addressKeys(input).network).toBe(expected);
  });

  it("the 65,536 /64s of one /48 share its key; neighbouring /48s do not; IPv4 and unknown have none", () => {
    expect(addressKeys("2001:db8:aa:0::1").network).toBe(addressKeys("2001:db8:aa:ffff::1").network);
    expect(addressKeys("2001:db8:aa:0::1").address).not.toBe(addressKeys("2001:db8:aa:ffff::1").address);
    expect(addressKeys("2001:db8:aa::1").network).not.toBe(addressKeys("2001:db8:ab::1").network);
    for (const input of ["192.0.2.1", "::ffff:192.0.2.1", null, "garbage"])
      expect(addressKeys(input).network).toBeUndefined();
  });
});

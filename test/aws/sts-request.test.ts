import { describe, expect, it } from "vitest";
import type { AssumeRoleInput } from "../../src/aws/session.ts";
import { assumeRoleForm, formEncode } from "../../src/aws/sts-request.ts";

const minimal: AssumeRoleInput = {
  roleArn: "arn:aws:iam::123456789012:role/deploy",
  roleSessionName: "gh-1-1-octo.app",
  durationSeconds: 900,
  sourceIdentity: "gh-octocat",
  tags: [],
  transitiveTagKeys: [],
  sessionPolicy: undefined,
  policyArns: [],
  externalId: undefined,
};

describe("assumeRoleForm", () => {
  it("encodes the minimal call exactly, leaving optional parameters out", () => {
    expect(assumeRoleForm(minimal)).toBe(
      "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeploy" +
        "&RoleSessionName=gh-1-1-octo.app&DurationSeconds=900&SourceIdentity=gh-octocat",
    );
  });

  it("encodes every parameter with 1-based member lists, in a stable order", () => {
    const form = new URLSearchParams(
      assumeRoleForm({
        ...minimal,
        durationSeconds: 3600,
        tags: [
          { key: "Repository", value: "octo-org/app" },
          { key: "Workflow", value: "Deploy to prod" },
        ],
        transitiveTagKeys: ["Repository", "Workflow"],
        sessionPolicy: '{"Version":"2012-10-17"}',
        policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        externalId: "ext-1",
      }),
    );
    expect([...form.keys()]).toEqual([
      "Action",
      "Version",
      "RoleArn",
      "RoleSessionName",
      "DurationSeconds",
      "SourceIdentity",
      "Tags.member.1.Key",
      "Tags.member.1.Value",
      "Tags.member.2.Key",
      "Tags.member.2.Value",
      "TransitiveTagKeys.member.1",
      "TransitiveTagKeys.member.2",
      "Policy",
      "PolicyArns.member.1.arn",
      "ExternalId",
    ]);
    expect(form.toString()).toBe(
      "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeploy" +
        "&RoleSessionName=gh-1-1-octo.app&DurationSeconds=3600&SourceIdentity=gh-octocat" +
        "&Tags.member.1.Key=Repository&Tags.member.1.Value=octo-org%2Fapp" +
        "&Tags.member.2.Key=Workflow&Tags.member.2.Value=Deploy+to+prod" +
        "&TransitiveTagKeys.member.1=Repository&TransitiveTagKeys.member.2=Workflow" +
        "&Policy=%7B%22Version%22%3A%222012-10-17%22%7D" +
        "&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess" +
        "&ExternalId=ext-1",
    );
  });

  it("round-trips unicode and reserved characters through form decoding", () => {
    const value = "日本 a+b=c&d/e:f@g";
    const form = new URLSearchParams(assumeRoleForm({ ...minimal, tags: [{ key: "Workflow", value }] }));
    expect(form.toString()).toContain("Tags.member.1.Value=%E6%97%A5%E6%9C%AC+a%2Bb%3Dc%26d%2Fe%3Af%40g");
    expect(new URLSearchParams(form.toString()).get("Tags.member.1.Value")).toBe(value);
  });

  it("sends an empty tag value as an empty parameter, not an omitted one", () => {
    const form = new URLSearchParams(assumeRoleForm({ ...minimal, tags: [{ key: "Environment", value: "" }] }));
    expect(form.toString().endsWith("&Tags.member.1.Key=Environment&Tags.member.1.Value=")).toBe(true);
  });
});

describe("formEncode", () => {
  it("writes names and values exactly as URLSearchParams does, whatever the characters", () => {
    const samples = [
      "",
      "plain",
      "a b",
      "!'()*~-._",
      "+=&%/?#:@",
      "日本語 é",
      "😀",
      "\u0000\t\n",
      "a\uD800b",
      "\uDC00",
      '{"a":[1]}',
    ];
    for (let code = 0; code < 128; code++) samples.push(String.fromCharCode(code));
    for (const sample of samples) {
      expect(formEncode(sample)).toBe(new URLSearchParams([["", sample]]).toString().slice(1));
    }
  });

  it("gives AssumeRole's body byte for byte as URLSearchParams would", () => {
    const input: AssumeRoleInput = {
      ...minimal,
      tags: [{ key: "Workflow", value: "Deploy (prod) 'now'! ~ * é" }],
      transitiveTagKeys: ["Workflow"],
      sessionPolicy: '{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}',
      policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
      externalId: "ext id!",
    };
    expect(assumeRoleForm(input)).toBe(new URLSearchParams(new URLSearchParams(assumeRoleForm(input))).toString());
  });
});

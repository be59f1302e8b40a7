// The examples `npm start` prints once the broker answers, made from the policy it runs (policy-examples.ts): commands
// a
// newcomer can paste as they are, or, when the policy offers none the sandbox can mint a token for, a plain sentence
// saying so. Pure; no I/O. docs/sandbox.md.
import { DEFAULT_SESSION_DURATION_SECONDS } from "../src/aws/constants.ts";
import type { Claims, SandboxExamples } from "./policy-examples.ts";

export interface BannerContext {
  /** `npm --prefix '<project>' run -s`: npm scripts from any directory. */
  npm: string;
  brokerUrl: string;
  sandboxOrigin: string;
}

export interface Banner {
  /** The command that gets credentials with the default token, when the policy grants one. */
  credentialsCommand: string | undefined;
  lines: string[];
}

/** A shell word in single quotes. */
const quoted = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

const claimFlags = (claims: Claims) =>
  Object.entries(claims)
    .map(([key, value]) => `--claim ${quoted(`${key}=${value}`).replace(/^'([\w./:=@-]+)'$/, "$1")}`)
    .join(" ");

/** `curl ... /exchange`, with the claims and role as its JSON body when there are any. */
function exchangeCommand(context: BannerContext, claims: Claims, role: string | undefined): string {
  const body = { ...(Object.keys(claims).length === 0 ? {} : { claims }), ...(role === undefined ? {} : { role }) };
  return `curl -sS -X POST ${context.sandboxOrigin}/exchange${Object.keys(body).length === 0 ? "" : ` -d ${quoted(JSON.stringify(body))}`}`;
}

export function bannerLines(examples: SandboxExamples, context: BannerContext): Banner {
  const { npm } = context;
  const granted = examples.granted;
  if (granted === undefined) {
    return {
      credentialsCommand: undefined,
      lines: [
        `Ready. No example to offer: ${examples.unavailable ?? "nothing to derive"}.`,
        `Mint a token with the claims your rules match, and see what the policy decides for it:`,
        "",
        `  ${npm} token -- --claim repository=OWNER/REPO --claim repository_id=ID | ${npm} policy:explain -- -`,
        "",
        `Kill switch, AWS profile: ${npm} sandbox -- help`,
      ],
    };
  }
  const roleBody = granted.role === undefined ? "" : ` -d ${quoted(JSON.stringify({ role: granted.role }))}`;
  const credentialsCommand = `curl -sS -X POST ${context.brokerUrl}/v1/credentials -H "Authorization: Bearer $(${npm} token)"${roleBody}`;
  const lines = [
    `Ready. Get ${DEFAULT_SESSION_DURATION_SECONDS / 60}-minute credentials for ${granted.repository} on ${granted.ref} (${granted.eventName}; rule ${granted.ruleId}, role ${granted.alias}), from any directory:`,
    "",
    `  ${credentialsCommand}`,
    "",
    `Check them with the sandbox STS (GetCallerIdentity):  ${credentialsCommand} | ${npm} whoami`,
    `Mint and exchange in one step:  ${exchangeCommand(context, {}, granted.role)}`,
  ];
  const other = examples.other;
  if (other !== undefined) {
    // A token alone, unless the rule grants several roles: then the request names one.
    const command =
      other.role === undefined
        ? `${npm} token -- ${claimFlags(other.overrides)}`
        : exchangeCommand(context, other.overrides, other.role);
    lines.push(`Other claims (rule ${other.ruleId}, role ${other.alias}): ${command}`);
  }
  const denied = examples.denied;
  if (denied !== undefined)
    lines.push(`A denial (${denied.reason}): ${exchangeCommand(context, denied.overrides, granted.role)}`);
  // Only a policy with `require` has facts to change; the hint is a change that makes the next exchange fail.
  const facts = examples.facts;
  if (facts?.requiredBy !== undefined)
    lines.push(
      `GitHub facts (rule ${facts.requiredBy} requires them; the sandbox reports them met for ${facts.repository}): ${npm} sandbox -- ${facts.hint}`,
    );
  const tokens = examples.githubTokens ?? [];
  if (tokens.length > 0)
    lines.push(
      `GitHub token grants (the policy's githubTokens: ${tokens.join(", ")}; the fake GitHub API runs the token App too): ${npm} sandbox -- github-token <name> [--claim name=value]...`,
    );
  lines.push(`Kill switch, AWS profile: ${npm} sandbox -- help`);
  return { credentialsCommand, lines };
}

// `npm run -s sandbox -- <command> [args]`: change or inspect the running `npm start` sandbox without editing files.
// One table of subcommands: a new one is one entry (usage, summary, run). docs/sandbox.md.
import { SANDBOX_PORT } from "../../src/cli/constants.ts";
import { KILL_SWITCH_CACHE_MS } from "../../src/policy/constants.ts";
import { SANDBOX_BROKER_PORT } from "./constants.ts";
import { KILL_SWITCH_PREFIX } from "../../src/policy/kill-switch.ts";
import { isAwsRegionName } from "../support/sts-emulator.ts";
import { KILL_SWITCH_KINDS, killSwitchKey } from "./kill-switch.ts";
import { SANDBOX_HOST, sandboxPaths } from "./paths.ts";
import { sandboxProfile } from "./profile.ts";
import { kvDelete, kvList, kvPut } from "./wrangler-kv.ts";
import { githubCommand } from "./github-command.ts";
import { alertsCommand } from "./alerts-command.ts";
import { githubTokenCommand } from "./github-token-command.ts";
import { sandboxIamKeys } from "./iam.ts";

/** A subcommand: `run` returns the exit code; a thrown Error is a usage problem (exit 2, its message and the usage). */
export interface SandboxCommand {
  usage: string;
  summary: string;
  /** Needs `npm start` running (checked first, with a clear message). */
  needsSandbox: boolean;
  run(args: string[]): Promise<number>;
}

const paths = sandboxPaths();
/** How soon a kill-switch change bites: an isolate trusts its last lookup this long. */
const takesEffect = `takes effect within ${KILL_SWITCH_CACHE_MS / 1000} s (an isolate trusts its last lookup that long)`;
const brokerUrl = `http://${SANDBOX_HOST}:${SANDBOX_BROKER_PORT}`;
const sandboxOrigin = `http://${SANDBOX_HOST}:${SANDBOX_PORT}`;

function expectArgs(args: string[], count: number, usage: string): void {
  if (args.length !== count) throw new Error(`expected ${usage}`);
}

const commands: Record<string, SandboxCommand> = {
  alerts: alertsCommand,
  github: githubCommand,
  "github-token": githubTokenCommand,
  kill: {
    usage: "kill <kind> <value> [incident]",
    summary: `deny every request for it until lifted; kind: ${KILL_SWITCH_KINDS.join(", ")}`,
    needsSandbox: true,
    async run(args) {
      if (args.length !== 2 && args.length !== 3) throw new Error("expected kill <kind> <value> [incident]");
      const key = killSwitchKey(args[0] as string, args[1] as string);
      await kvPut(paths, key, args[2] ?? "sandbox");
      console.log(`set ${key}: ${takesEffect}`);
      return 0;
    },
  },
  lift: {
    usage: "lift <kind> <value>",
    summary: "delete that kill-switch key",
    needsSandbox: true,
    async run(args) {
      expectArgs(args, 2, "lift <kind> <value>");
      const key = killSwitchKey(args[0] as string, args[1] as string);
      await kvDelete(paths, key);
      console.log(`deleted ${key}: ${takesEffect}`);
      return 0;
    },
  },
  kills: {
    usage: "kills",
    summary: "list the kill-switch keys that are set",
    needsSandbox: true,
    async run(args) {
      expectArgs(args, 0, "kills");
      const keys = await kvList(paths, KILL_SWITCH_PREFIX);
      console.log(keys.length === 0 ? "no kill-switch key is set" : keys.join("\n"));
      return 0;
    },
  },
  "aws-keys": {
    usage: "aws-keys <account>",
    summary:
      "print `export` lines with the sandbox IAM's keys for that account (npm run revoke -- --iam-endpoint http://127.0.0.1:8788/iam)",
    needsSandbox: false,
    async run(args) {
      expectArgs(args, 1, "aws-keys <12-digit account id>");
      if (!/^\d{12}$/.test(args[0] as string)) throw new Error("expected aws-keys <12-digit account id>");
      const keys = sandboxIamKeys(args[0] as string);
      console.log(
        `export AWS_ACCESS_KEY_ID=${keys.accessKeyId} AWS_SECRET_ACCESS_KEY=${keys.secretAccessKey}\nunset AWS_SESSION_TOKEN`,
      );
      return 0;
    },
  },
  profile: {
    usage: "profile [--region REGION] [--name NAME]",
    summary: "print an AWS CLI profile whose credential_process gets credentials from the sandbox",
    needsSandbox: false,
    async run(args) {
      let region = "us-east-1";
      let name = "ccb-sandbox";
      for (let i = 0; i < args.length; i += 2) {
        const value = args[i + 1];
        if (args[i] === "--region" && value !== undefined && isAwsRegionName(value)) region = value;
        else if (args[i] === "--name" && value !== undefined && /^[\w.-]+$/.test(value)) name = value;
        else
          throw new Error(
            `expected profile [--region REGION] [--name NAME] with an AWS region name and a profile name`,
          );
      }
      process.stdout.write(
        sandboxProfile({
          name,
          region,
          nodePath: process.execPath,
          cliPath: paths.clientCli,
          brokerUrl,
          sandboxOrigin,
        }),
      );
      return 0;
    },
  },
};

function help(): string {
  const width = Math.max(...Object.values(commands).map((command) => command.usage.length));
  return [
    "usage: npm run -s sandbox -- <command>",
    ...Object.values(commands).map((command) => `  ${command.usage.padEnd(width)}  ${command.summary}`),
  ].join("\n");
}

async function sandboxRunning(): Promise<boolean> {
  try {
    return (await fetch(`${brokerUrl}/healthz`)).ok;
  } catch {
    return false;
  }
}

const [name, ...args] = process.argv.slice(2);
if (name === undefined || name === "help" || name === "--help") {
  console.log(help());
  process.exit(name === undefined ? 2 : 0);
}
const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
if (command === undefined) {
  console.error(`sandbox: unknown command "${name}"\n${help()}`);
  process.exit(2);
}
if (command.needsSandbox && !(await sandboxRunning())) {
  console.error(`sandbox: no sandbox broker answers at ${brokerUrl}: run \`npm start\` (in ${paths.root}) first`);
  process.exit(1);
}
try {
  process.exit(await command.run(args));
} catch (error) {
  // A failed child process (wrangler) carries `code`; a plain Error is a usage problem the command found.
  if (error instanceof Error && !("code" in error)) {
    console.error(`sandbox: ${error.message}\n${help()}`);
    process.exit(2);
  }
  console.error(`sandbox: ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

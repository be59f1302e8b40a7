// `npm run -s sandbox -- <command> [args]`: change or inspect the running `npm start` sandbox without editing files.
// One table of subcommands: a new one is one entry (usage, summary, run).
import { githubCommand } from "./github-command.ts";

export interface SandboxCommand {
  usage: string;
  summary: string;
  /** Needs `npm start` running. */
  needsSandbox: boolean;
  run(args: string[]): Promise<number>;
}

const commands: Record<string, SandboxCommand> = {
  github: githubCommand,
};

const [name, ...args] = process.argv.slice(2);
const command = name === undefined ? undefined : commands[name];
if (command === undefined) {
  console.error(`usage: npm run -s sandbox -- <command> [args]\n${Object.values(commands).map((c) => `  ${c.usage}\n      ${c.summary}`).join("\n")}`);
  process.exit(2);
}
try {
  process.exitCode = await command.run(args);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(/fetch failed|ECONNREFUSED/.test(message) ? "sandbox not reachable: run `npm start` first" : message);
  process.exitCode = 2;
}

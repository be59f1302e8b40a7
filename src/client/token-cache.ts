// The job's token store on Node: a private folder (0700) in the job's temp directory, one file (0600) per cached grant,
// a revocation list, and mint locks. I/O only; what to cache and when is decided in job-tokens.ts.
//
// Where: GitHub Actions' RUNNER_TEMP (private to the job, emptied by the runner when the job ends); on GitLab and
// elsewhere the system temp directory (TMPDIR), in a folder named after the job (CI_JOB_ID) or the user. Not
// CI_BUILDS_DIR or the project directory: they may persist between jobs or be uploaded as artefacts or caches.
import { createHash, randomUUID } from "node:crypto";
import {
  closeSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
  constants as fs,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_TOKEN_CACHE_FILE_BYTES, TOKEN_CACHE_LOCK_POLL_MS, TOKEN_CACHE_LOCK_STALE_MS } from "./constants.ts";
import { ClientError } from "./errors.ts";
import type { TokenStore } from "./job-tokens.ts";

const MINTED_FILE = "minted.jsonl";
const POSIX = process.platform !== "win32";
/** O_NOFOLLOW where the platform has it: a planted symlink is never written through. */
const NOFOLLOW = POSIX ? fs.O_NOFOLLOW : 0;

/** The job's token folder. Pure: the environment, the temp directory and the user id arrive as values. */
export function tokenCacheDir(
  getEnv: (name: string) => string | undefined,
  tempDir: string,
  uid: number | undefined,
): string {
  const runnerTemp = getEnv("RUNNER_TEMP");
  if (getEnv("GITHUB_ACTIONS") === "true" && runnerTemp !== undefined && runnerTemp !== "")
    return join(runnerTemp, "ci-credential-broker");
  const job = getEnv("CI_JOB_ID");
  if (getEnv("GITLAB_CI") === "true" && job !== undefined && /^\d{1,20}$/.test(job))
    return join(tempDir, `ci-credential-broker-job-${job}`);
  return join(tempDir, `ci-credential-broker-${uid ?? "user"}`);
}

/** One cache file per broker and grant: the name is readable, the hash keeps two brokers' grants apart. */
export function tokenCacheKey(endpoint: URL, name: string): string {
  return `${name}-${createHash("sha256").update(endpoint.href).digest("hex").slice(0, 12)}`;
}

function notPrivate(dir: string, why: string): ClientError {
  return new ClientError("output_failed", `The token folder ${dir} ${why}: refusing to keep a token there.`);
}

/** Checks an existing folder is a real directory of ours that nobody else can read; undefined when there is none. */
function existingPrivateDir(dir: string): string | undefined {
  let stat;
  try {
    stat = lstatSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ClientError("output_failed", `Could not read the token folder ${dir}.`, { cause: error });
  }
  if (!stat.isDirectory()) throw notPrivate(dir, "is not a directory (a symbolic link?)");
  if (POSIX && (stat.uid !== process.getuid?.() || (stat.mode & 0o077) !== 0))
    throw notPrivate(dir, "belongs to another user or is open to others");
  return dir;
}

/** Creates the folder (0700) unless it exists, then checks it as existingPrivateDir does. */
function privateDir(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new ClientError("output_failed", `Could not create the token folder ${dir}.`, { cause });
  }
  return existingPrivateDir(dir) ?? dir;
}

function readCapped(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, fs.O_RDONLY | NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    if (fstatSync(fd).size > MAX_TOKEN_CACHE_FILE_BYTES) return undefined;
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

function writeNew(path: string, text: string, flags: number): void {
  const fd = openSync(path, flags | NOFOLLOW, 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The store over `dir` (created private on first use). */
export function fileTokenStore(dir: string): TokenStore {
  const folder = () => privateDir(dir);
  const file = (key: string) => join(folder(), `${key}.json`);
  /** Reading never creates the folder (a post step with nothing minted leaves no trace). */
  const readIn = (name: string) => {
    const existing = existingPrivateDir(dir);
    return existing === undefined ? undefined : readCapped(join(existing, name));
  };
  return {
    read: (key) => readIn(`${key}.json`),
    write(key, answer) {
      // A new file renamed into place: a reader never sees half a token, a planted file is replaced, not followed.
      const temp = join(folder(), `.${key}.${randomUUID()}.tmp`);
      writeNew(temp, answer, fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL);
      renameSync(temp, file(key));
    },
    remove: (key) => rmSync(file(key), { force: true }),
    recordMinted: (line) => writeNew(join(folder(), MINTED_FILE), `${line}\n`, fs.O_WRONLY | fs.O_CREAT | fs.O_APPEND),
    minted: () => (readIn(MINTED_FILE) ?? "").split("\n").filter((line) => line !== ""),
    clear: () => rmSync(dir, { recursive: true, force: true }),
    async withLock(key, fn) {
      const lock = join(folder(), `${key}.lock`);
      const deadline = Date.now() + TOKEN_CACHE_LOCK_STALE_MS;
      for (;;) {
        try {
          closeSync(openSync(lock, fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL | NOFOLLOW, 0o600));
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST")
            throw new ClientError("output_failed", `Could not lock ${lock}.`, { cause: error });
        }
        // A lock older than one exchange's deadline belongs to a helper that died: take it over.
        let age = 0;
        try {
          age = Date.now() - statSync(lock).mtimeMs;
        } catch {
          continue;
        }
        if (age > TOKEN_CACHE_LOCK_STALE_MS || Date.now() > deadline) rmSync(lock, { force: true });
        else await sleep(TOKEN_CACHE_LOCK_POLL_MS);
      }
      try {
        return await fn();
      } finally {
        try {
          unlinkSync(lock);
        } catch {
          // Gone already (cleared by a post step): nothing to release.
        }
      }
    },
  };
}

/** The store of this job, where the environment says it is. */
export function jobTokenStore(getEnv: (name: string) => string | undefined): TokenStore {
  return fileTokenStore(tokenCacheDir(getEnv, tmpdir(), process.getuid?.()));
}

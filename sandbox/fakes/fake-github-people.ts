// People in the fake GitHub API (docs.github.com REST "Pulls", "Reviews", "Collaborators"): accounts (`type` User or
// Bot), each one's role on a repository as "Get repository permissions for a user" reports it (`permission` maps
// maintain to write and triage to read; `role_name` names the role, custom ones too), pull requests, and reviews with
// `user.type` and `author_association`, which is no permission (an organisation MEMBER may only read).
import type { FakePullRequest, FakeReview, RepositoryRole } from "./fake-github-types.ts";

type Account = { id: number; login: string; type: "User" | "Bot" };

const PERMISSION_OF_ROLE: Record<string, string> = {
  admin: "admin",
  maintain: "write",
  write: "write",
  triage: "read",
  read: "read",
  none: "none",
};
const key = (name: string) => name.toLowerCase();

/** Accounts, roles per repository and account, pull requests, and reviews per pull request. */
interface People {
  users: Map<number, Account>;
  roles: Map<string, { role: RepositoryRole; association: string | undefined }>;
  pulls: FakePullRequest[];
  reviews: Map<string, FakeReview[]>;
  nextReviewId: number;
}

const userOf = (people: People, id: number): Account =>
  people.users.get(id) ?? { id, login: `user${id}`, type: "User" };
const roleOf = (people: People, repository: string, userId: number) => people.roles.get(`${key(repository)}|${userId}`);
const reviewKey = (repository: string, number: number) => `${key(repository)}#${number}`;

export function createPeople() {
  const people: People = { users: new Map(), roles: new Map(), pulls: [], reviews: new Map(), nextReviewId: 500_000 };
  const { users, roles, pulls, reviews } = people;
  return {
    users,
    /** The repository renamed or transferred: its roles, pull requests and reviews go with it. */
    rename: (from: string, to: string): void => rename(people, from, to),
    addUser(user: { id: number; login: string; type?: "User" | "Bot" }): void {
      users.set(user.id, { id: user.id, login: user.login, type: user.type ?? "User" });
    },
    setPermission(repository: string, userId: number, role: RepositoryRole, associationOverride?: string): void {
      roles.set(`${key(repository)}|${userId}`, { role, association: associationOverride });
    },
    /** GET .../collaborators/{username}/permission: undefined for an unknown login (GitHub: 404). */
    permissionJson: (repository: string, login: string) => permissionJson(people, repository, login),
    pullsOf(repository: string): FakePullRequest[] {
      return pulls.filter((pull) => key(pull.repository) === key(repository));
    },
    pullJson(pull: FakePullRequest, repoId: number) {
      const author = userOf(people, pull.authorId);
      return {
        number: pull.number,
        state: pull.state,
        user: { id: author.id, login: author.login, type: author.type },
        head: { sha: pull.headSha, ref: `feature-${pull.number}` },
        base: { ref: pull.baseRef, repo: { id: repoId, full_name: pull.repository } },
        merged_at: pull.mergedAt,
        merge_commit_sha: pull.mergeCommitSha,
      };
    },
    /** Adds a pull request, or replaces the one of that number (its state now). */
    addPullRequest(pull: FakePullRequest): void {
      const known = pulls.findIndex(
        (candidate) => key(candidate.repository) === key(pull.repository) && candidate.number === pull.number,
      );
      if (known === -1) pulls.push(pull);
      else pulls[known] = pull;
    },
    /** GET .../pulls/{n}/reviews items (pending reviews are their author's alone). */
    reviewsJson: (repository: string, number: number) => reviewsJson(people, repository, number),
    addReview(repository: string, number: number, review: Omit<FakeReview, "id">): number {
      const id = people.nextReviewId++;
      reviews.set(reviewKey(repository, number), [
        ...(reviews.get(reviewKey(repository, number)) ?? []),
        { ...review, id },
      ]);
      return id;
    },
    dismissReview(repository: string, number: number, reviewId: number): void {
      const review = reviews.get(reviewKey(repository, number))?.find((candidate) => candidate.id === reviewId);
      if (review === undefined) throw new Error(`no review ${reviewId}`);
      review.state = "DISMISSED";
    },
    clearReviews(repository: string, number: number): void {
      reviews.delete(reviewKey(repository, number));
    },
  };
}

function rename(people: People, from: string, to: string): void {
  const moveKeys = <T>(map: Map<string, T>, prefix: string, next: string) => {
    for (const [name, value] of [...map]) {
      if (!name.startsWith(prefix)) continue;
      map.delete(name);
      map.set(`${next}${name.slice(prefix.length)}`, value);
    }
  };
  moveKeys(people.roles, `${key(from)}|`, `${key(to)}|`);
  moveKeys(people.reviews, `${key(from)}#`, `${key(to)}#`);
  for (const pull of people.pulls) if (key(pull.repository) === key(from)) pull.repository = to;
}

function permissionJson(people: People, repository: string, login: string) {
  const wanted = key(login);
  const user =
    [...people.users.values()].find((candidate) => key(candidate.login) === wanted) ??
    (/^user\d+$/.test(wanted) ? userOf(people, Number(wanted.slice(4))) : undefined);
  if (user === undefined) return undefined;
  const role = roleOf(people, repository, user.id)?.role ?? "none";
  const base = typeof role === "string" ? role : role.base;
  return {
    permission: PERMISSION_OF_ROLE[base],
    role_name: typeof role === "string" ? role : role.custom,
    user: { login: user.login, id: user.id, type: user.type },
  };
}

function reviewsJson(people: People, repository: string, number: number) {
  return (people.reviews.get(reviewKey(repository, number)) ?? [])
    .filter((review) => review.state !== "PENDING")
    .map((review) => {
      const user = userOf(people, review.userId);
      return {
        id: review.id,
        user: { id: user.id, login: user.login, type: user.type },
        state: review.state,
        commit_id: review.commitId,
        author_association: association(people, repository, user.id),
        submitted_at: "2026-11-25T11:00:00Z",
      };
    });
}

/** `author_association` as GitHub derives it from the account's relation to the repository. */
function association(people: People, repository: string, userId: number): string {
  const held = roleOf(people, repository, userId);
  if (held?.association !== undefined) return held.association;
  if (held === undefined || held.role === "none") return "NONE";
  return typeof held.role === "string" && ["admin", "maintain", "write"].includes(held.role)
    ? "COLLABORATOR"
    : "MEMBER";
}

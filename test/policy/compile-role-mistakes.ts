// compilePolicy mistakes in roles and role grants: ARNs, durations, session policy, tags, external ids, fields.
import { type Mistake, role, rule } from "./compile-helpers.ts";

export const ROLE_MISTAKES: Mistake[] = [
  [
    "undefined role",
    { roles: { app: role }, rules: [{ ...rule, roles: ["missing"] }] },
    "rules[0] (r1)",
    "role_undefined",
  ],
  [
    "alias mapped to an undefined role",
    { roles: { app: role }, rules: [{ ...rule, roles: { deploy: "missing" } }] },
    "rules[0] (r1)",
    "role_undefined",
  ],
  [
    "malformed ARN (short account)",
    { roles: { app: { arn: "arn:aws:iam::1234:role/app" } }, rules: [rule] },
    "roles.app",
    "arn_invalid",
  ],
  [
    "user ARN instead of role",
    { roles: { app: { arn: "arn:aws:iam::111122223333:user/app" } }, rules: [rule] },
    "roles.app",
    "arn_invalid",
  ],
  [
    "malformed managed policy ARN",
    { roles: { app: { ...role, managedPolicyArns: ["arn:aws:iam::aws:role/x"] } }, rules: [rule] },
    "roles.app.managedPolicyArns[0]",
    "arn_invalid",
  ],
  [
    "eleven managed policies",
    {
      roles: {
        app: { ...role, managedPolicyArns: Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`) },
      },
      rules: [rule],
    },
    "roles.app.managedPolicyArns",
    "arn_invalid",
  ],
  [
    "duration below STS minimum",
    { roles: { app: { ...role, maxDurationSeconds: 899 } }, rules: [rule] },
    "roles.app",
    "role_invalid",
  ],
  [
    "duration above STS maximum",
    { roles: { app: { ...role, maxDurationSeconds: 43_201 } }, rules: [rule] },
    "roles.app",
    "role_invalid",
  ],
  [
    "session policy over 2048 characters",
    {
      roles: { app: { ...role, sessionPolicy: { Version: "2012-10-17", Statement: [{ Sid: "x".repeat(2048) }] } } },
      rules: [rule],
    },
    "roles.app.sessionPolicy",
    "session_policy_too_large",
  ],
  [
    "aws: tag key",
    { roles: { app: { ...role, sessionTags: { "aws:x": "1" } } }, rules: [rule] },
    "roles.app.sessionTags.aws:x",
    "session_tag_invalid",
  ],
  [
    "tag value with bad characters",
    { roles: { app: { ...role, sessionTags: { Team: "a;b" } } }, rules: [rule] },
    "roles.app.sessionTags.Team",
    "session_tag_invalid",
  ],
  [
    "tag key the broker sets (GitHub)",
    { roles: { app: { ...role, sessionTags: { repository: "x" } } }, rules: [rule] },
    "roles.app.sessionTags.repository",
    "session_tag_invalid",
  ],
  [
    "tag key the broker sets (GitLab)",
    { roles: { app: { ...role, sessionTags: { Project: "x" } } }, rules: [rule] },
    "roles.app.sessionTags.Project",
    "session_tag_invalid",
  ],
  [
    "tag keys differing only in case",
    { roles: { app: { ...role, sessionTags: { Team: "a", team: "b" } } }, rules: [rule] },
    "roles.app.sessionTags.team",
    "session_tag_invalid",
  ],
  [
    "transitive key that is not a tag",
    { roles: { app: { ...role, sessionTags: { Team: "a" }, transitiveTagKeys: ["Cost"] } }, rules: [rule] },
    "roles.app.transitiveTagKeys",
    "session_tag_invalid",
  ],
  [
    "external id too short",
    { roles: { app: { ...role, externalId: "x" } }, rules: [rule] },
    "roles.app.externalId",
    "role_invalid",
  ],
  [
    "external id with a space",
    { roles: { app: { ...role, externalId: "a b" } }, rules: [rule] },
    "roles.app.externalId",
    "role_invalid",
  ],
  [
    "unknown role field",
    { roles: { app: { ...role, maxDuration: 900 } as never }, rules: [rule] },
    "roles.app.maxDuration",
    "role_invalid",
  ],
];

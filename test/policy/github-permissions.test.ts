// GitHub's permission list (src/policy/github-permissions.ts): the repository permissions and levels a grant may name.
import { describe, expect, it } from "vitest";
import {
  DANGEROUS_PERMISSIONS,
  isOwnerWidePermission,
  REPOSITORY_PERMISSIONS,
} from "../../src/policy/github-permissions.ts";

describe("GitHub's permission list (src/policy/github-permissions.ts)", () => {
  it("keeps repository and owner-wide permissions apart, and every dangerous one is a repository permission with write", () => {
    for (const name of Object.keys(REPOSITORY_PERMISSIONS)) expect(isOwnerWidePermission(name)).toBe(false);
    // The schema's organization, user and enterprise permissions (app-permissions, after `workflows`).
    for (const name of [
      "members",
      "organization_administration",
      "organization_self_hosted_runners",
      "custom_properties_for_organizations",
      "email_addresses",
      "profile",
      "starring",
      "enterprise_custom_properties_for_organizations",
    ]) {
      expect(isOwnerWidePermission(name)).toBe(true);
    }
    for (const name of DANGEROUS_PERMISSIONS) expect(REPOSITORY_PERMISSIONS[name]).toContain("write");
    // The five the design names, at least: each reaches beyond the repository's contents.
    for (const name of ["administration", "secrets", "workflows", "actions", "environments"] as const)
      expect(DANGEROUS_PERMISSIONS.has(name)).toBe(true);
  });
});

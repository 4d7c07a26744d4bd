/**
 * Whose a branch is. Two repositories may share one Neon project, and their branch names collide
 * as easily as their pull request numbers and head refs do (Dependabot's refs are the same in
 * every repository): a branch annotated for another repository is that repository's, and this
 * action never adopts, resets or deletes it, nor hands out its URL, whatever its name.
 *
 * The annotations read: `github-repo` (this action's), `github-commit-repo` (Neon's own
 * create-branch action writes it: BEHAVIOUR.md, Branches, annotations) and `github-repo-id` (this
 * action's, from GITHUB_REPOSITORY_ID). An id, when both sides have one, decides alone: a renamed
 * or transferred repository keeps its id, so its branches stay its own under the new name. Names
 * are compared without regard to case, as GitHub compares them.
 */
import type { RunContext } from '../github/context.js'
import type { Annotation, Branch } from '../neon/types.js'
import { escapeControl } from '../util/log-text.js'

export type Ownership =
  | { kind: 'ours' }
  /** No repository annotation at all (made by hand, or by another tool): judged as before. */
  | { kind: 'unknown' }
  /** `repo`: the other repository as the annotation names it; `key`: the annotation that says so. */
  | { kind: 'foreign'; repo: string; key: string }

type Here = Pick<RunContext, 'repository' | 'repositoryId'>

/** Whose the branch with these annotations is, seen from this run's repository. */
export function ownership(annotation: Annotation | undefined, here: Here): Ownership {
  const a = annotation?.value ?? {}
  const id = a['github-repo-id']
  const named = (['github-repo', 'github-commit-repo'] as const)
    .map((key) => ({ key, repo: a[key] }))
    .filter((x): x is { key: 'github-repo' | 'github-commit-repo'; repo: string } => !!x.repo)
  if (id && here.repositoryId) {
    if (id === here.repositoryId) return { kind: 'ours' }
    return { kind: 'foreign', repo: named[0]?.repo ?? `the repository with id ${id}`, key: 'github-repo-id' }
  }
  // Without the run's repository (a local run) nothing can be told apart.
  if (named.length === 0 || !here.repository) return { kind: 'unknown' }
  const other = named.find((x) => x.repo.toLowerCase() !== here.repository.toLowerCase())
  return other ? { kind: 'foreign', repo: other.repo, key: other.key } : { kind: 'ours' }
}

/**
 * The refusal for create and reset (and schema-diff): which repository the branch is for, and the
 * way out, a `branch_name` of this repository's own.
 */
export function foreignBranchError(
  branch: Branch,
  o: Extract<Ownership, { kind: 'foreign' }>,
  ctx: RunContext,
  projectId: string,
): Error {
  const here = ctx.repository
  const own = (here.split('/')[1] ?? here).toLowerCase().replace(/[^a-z0-9._-]/g, '-')
  const suggestion = ctx.pullRequest
    ? `branch_name: preview/${own}/pr-\${{ github.event.pull_request.number }}-\${{ github.head_ref }} ` +
      `(in this repository's delete step too)`
    : `branch_name: preview/${own}/<name>`
  return new Error(
    `branch '${escapeControl(branch.name)}' (${escapeControl(branch.id)}) in project ${projectId} is ` +
      `annotated for repository ${escapeControl(o.repo)} (${o.key}), not ${here}: it is that ` +
      `repository's branch, and this action never adopts, resets or deletes another repository's ` +
      `branch, nor hands out its URL. The two repositories share the Neon project and name their ` +
      `branches alike; give this one names of its own, e.g. ${suggestion}. Nothing was changed.`,
  )
}

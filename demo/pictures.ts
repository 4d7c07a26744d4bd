/**
 * `npm run demo -- --pictures DIR`: the demo writes the pull request comment and the job summary that
 * docs/images/ shows (scripts/docs-images.ts renders them; test/docs/images.test.ts checks that the
 * Markdown committed beside the images is still what the demo writes).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface PictureSources {
  /** The sticky comment's body once schema-diff has added its section. */
  comment: string
  /** The job summary of the run that created the branch. */
  summary: string
}

/** Writes DIR/comment.md and DIR/summary.md; false (and nothing written) when one holds a secret. */
export function writePictureSources(dir: string, sources: PictureSources, secrets: string[]): boolean {
  const leaks = secrets.filter((s) => s.length > 0 && Object.values(sources).some((t) => t.includes(s)))
  if (leaks.length > 0 || sources.comment === '' || sources.summary === '') return false
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'comment.md'), sources.comment)
  writeFileSync(join(dir, 'summary.md'), sources.summary)
  return true
}

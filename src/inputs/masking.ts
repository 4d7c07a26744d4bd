// `masking_rules` and `masking_rules_file`: the reading and checking is masking/input.ts; this
// decides whether the file is read at all.
import { INPUTS } from '../constants.js'
import { readMaskingRules, type MaskingRulesInput } from '../masking/input.js'
import type { Reader } from './reader.js'
import type { BranchType, GetInputsOptions, Mode } from './types.js'

export function readMasking(
  r: Reader,
  mode: Mode,
  target: { database: string; branchType: BranchType },
  options: GetInputsOptions,
): MaskingRulesInput | undefined {
  return readMaskingRules({
    inline: r.get(INPUTS.maskingRules),
    file: r.get(INPUTS.maskingRulesFile),
    // The rules matter where a branch is made; elsewhere a file is not even read (a job that
    // deletes need not check the repository out). `auto` reads it unless main.ts knows better.
    readFile: ['create', 'reset'].includes(mode === 'auto' ? (options.autoMode ?? 'create') : mode),
    database: target.database,
    branchType: target.branchType,
    fail: r.fail,
    ...(options.workspace !== undefined ? { workspace: options.workspace } : {}),
    ...(options.readFile ? { read: options.readFile } : {}),
  })
}

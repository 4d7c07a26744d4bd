// Deterministic, seeded generation of Neon-looking identifiers and secrets.

/** mulberry32: a small, fast, seedable PRNG. */
export class Rng {
  private s: number
  constructor(seed: number) {
    this.s = seed >>> 0
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0
    let t = this.s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive)
  }
  pick<T>(items: readonly T[]): T {
    const v = items[this.int(items.length)]
    if (v === undefined) throw new Error('pick from empty list')
    return v
  }
  chars(alphabet: string, n: number): string {
    let out = ''
    for (let i = 0; i < n; i++) out += alphabet[this.int(alphabet.length)]
    return out
  }
  uuid(): string {
    const h = this.chars('0123456789abcdef', 32).split('')
    h[12] = '4'
    h[16] = '89ab'[this.int(4)] ?? '8'
    const s = h.join('')
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
  }
}

const ADJECTIVES = [
  'hidden',
  'damp',
  'super',
  'long',
  'aged',
  'wispy',
  'silent',
  'raspy',
  'round',
  'green',
  'shiny',
  'sparkling',
  'old',
  'little',
  'soft',
  'sweet',
  'small',
  'spring',
  'winter',
  'calm',
  'bold',
  'bitter',
  'quiet',
  'young',
  'plain',
  'rapid',
  'misty',
  'polished',
  'holy',
  'icy',
  'lively',
  'muddy',
  'noisy',
  'proud',
  'red',
  'steep',
  'twilight',
  'wild',
  'withered',
  'frosty',
  'empty',
  'delicate',
  'dry',
  'dark',
  'cold',
  'broad',
  'autumn',
  'ancient',
] as const
const NOUNS = [
  'river',
  'glitter',
  'wildflower',
  'feather',
  'salad',
  'meadow',
  'smoke',
  'glade',
  'unit',
  'mode',
  'morning',
  'hill',
  'fire',
  'violet',
  'breeze',
  'term',
  'boat',
  'wind',
  'sun',
  'field',
  'lake',
  'forest',
  'dew',
  'moon',
  'cloud',
  'leaf',
  'pond',
  'sound',
  'snow',
  'star',
  'frog',
  'rain',
  'waterfall',
  'tree',
  'shape',
  'grass',
  'sea',
  'surf',
  'dust',
  'mouse',
  'base',
  'butterfly',
  'night',
  'paper',
  'block',
  'scene',
  'haze',
  'cherry',
  'bar',
] as const

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789'
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** Generator of ids for one simulator; `reset()` restarts the sequence from the seed. */
export class IdGen {
  private rng: Rng
  private used = new Set<string>()
  private dbId = 0
  private lsn = 0
  constructor(private readonly seed: number) {
    this.rng = new Rng(seed)
    this.reset()
  }
  reset(): void {
    this.rng = new Rng(this.seed)
    this.used.clear()
    this.dbId = 1_000_000 + this.rng.int(8_000_000)
    this.lsn = 0x1a00000 + this.rng.int(0x100000)
  }
  private unique(make: () => string): string {
    for (;;) {
      const id = make()
      if (!this.used.has(id)) {
        this.used.add(id)
        return id
      }
    }
  }
  private haiku(): string {
    return `${this.rng.pick(ADJECTIVES)}-${this.rng.pick(NOUNS)}`
  }
  projectId(): string {
    return this.unique(() => `${this.haiku()}-${String(10_000_000 + this.rng.int(90_000_000))}`)
  }
  branchId(): string {
    return this.unique(() => `br-${this.haiku()}-${this.rng.chars(LOWER_ALNUM, 8)}`)
  }
  endpointId(): string {
    return this.unique(() => `ep-${this.haiku()}-${this.rng.chars(LOWER_ALNUM, 8)}`)
  }
  orgId(): string {
    return this.unique(() => `org-${this.haiku()}-${String(10_000_000 + this.rng.int(90_000_000))}`)
  }
  operationId(): string {
    return this.unique(() => this.rng.uuid())
  }
  /** A UUID for anything else that has one (a Neon Auth provider project). */
  uuid(): string {
    return this.unique(() => this.rng.uuid())
  }
  password(): string {
    return `npg_${this.rng.chars(ALNUM, 12)}`
  }
  databaseId(): number {
    this.dbId += 1 + this.rng.int(50)
    return this.dbId
  }
  parentLsn(): string {
    this.lsn += 0x100 + this.rng.int(0x10000)
    return `0/${this.lsn.toString(16).toUpperCase()}`
  }
}

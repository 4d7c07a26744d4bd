/** The stand-in's one export: constructing it throws (see index.js). */
export declare class ProxyAgent {
  constructor(...args: unknown[])
}

// Types for seek-bzip 2.0.0 (pure-JavaScript bzip2 decoder; ships no types). Only what src/eval uses.
declare module "seek-bzip" {
  interface Bunzip {
    /** Decodes a whole bzip2 buffer (CRCs checked); `multistream` decodes concatenated streams. */
    decode(input: Uint8Array, output?: undefined, multistream?: boolean): Buffer;
  }
  const Bunzip: Bunzip;
  export default Bunzip;
}

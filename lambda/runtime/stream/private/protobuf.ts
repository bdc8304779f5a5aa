/**
 * Just enough of the protobuf wire format to read the KPL's `AggregatedRecord`: varints,
 * length-delimited fields, and skipping the fields it does not know. Not public.
 * https://protobuf.dev/programming-guides/encoding/
 */

/** Wire types of the protobuf encoding. */
export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

/** Reads protobuf fields from `bytes`, front to back; throws an `Error` saying what is wrong on malformed input. */
export class ProtobufReader {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** Whether every byte has been read. */
  public get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** The next field's number and wire type. */
  public tag(): { readonly field: number; readonly wireType: number } {
    const key = this.varint();
    const field = Math.floor(key / 8);
    if (field === 0) throw new Error(`field number 0 at byte ${this.pos}`);
    return { field, wireType: key % 8 };
  }

  /** An unsigned varint; more than 2^53 - 1 is refused (no index or length gets near it). */
  public varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.bytes.length) throw new Error('varint runs past the end');
      const byte = this.bytes[this.pos++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) throw new Error('varint larger than 2^53 - 1');
        return value;
      }
      scale *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  public lengthDelimited(): Uint8Array {
    const length = this.varint();
    if (length > this.bytes.length - this.pos) throw new Error(`field of ${length} bytes runs past the end`);
    const value = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  /** Skips a field of the given wire type. Groups (wire types 3 and 4, deprecated) are refused. */
  public skip(wireType: number): void {
    if (wireType === WireType.varint) this.varint();
    else if (wireType === WireType.lengthDelimited) this.lengthDelimited();
    else if (wireType === WireType.fixed64 || wireType === WireType.fixed32) {
      const size = wireType === WireType.fixed64 ? 8 : 4;
      if (size > this.bytes.length - this.pos) throw new Error('fixed-size field runs past the end');
      this.pos += size;
    } else throw new Error(`unsupported wire type ${wireType}`);
  }
}

/**
 * Types for the `macaroon` npm package (3.x, go-macaroon/js-macaroon), which ships none. Only what the
 * package's README documents; the package is CommonJS, so it is imported as a default export.
 */
declare module 'macaroon' {
  namespace macaroon {
    interface FirstPartyCaveat {
      identifier: Uint8Array;
    }

    interface ThirdPartyCaveat {
      identifier: Uint8Array;
      location: string;
      vid: Uint8Array;
    }

    type Caveat = FirstPartyCaveat | ThirdPartyCaveat;

    /** The version 2 JSON form: each byte field is either text (`i`) or base64 (`i64`). */
    interface MacaroonJSONV2 {
      v?: 2;
      i?: string;
      i64?: string;
      l?: string;
      s?: string;
      s64?: string;
      c?: { i?: string; i64?: string; l?: string; v?: string; v64?: string }[];
    }

    /** The version 1 JSON form. */
    interface MacaroonJSONV1 {
      identifier: string;
      signature: string;
      location?: string;
      caveats?: { cid: string; vid?: string; cl?: string }[];
    }

    type MacaroonJSON = MacaroonJSONV1 | MacaroonJSONV2;

    /**
     * Called by `verify` with each first-party caveat's condition: returns an error text when the condition
     * does not hold, null (or undefined) when it does.
     */
    type CaveatCheck = (condition: string) => string | null | undefined;

    interface Macaroon {
      readonly caveats: Caveat[];
      readonly location: string;
      readonly identifier: Uint8Array;
      readonly signature: Uint8Array;
      addFirstPartyCaveat(condition: string | Uint8Array): void;
      addThirdPartyCaveat(rootKey: Uint8Array, caveatId: string | Uint8Array, location?: string): void;
      bindToRoot(rootSignature: Uint8Array): void;
      clone(): Macaroon;
      /** Throws when the signature chain does not verify or a caveat check fails. */
      verify(rootKey: Uint8Array, check: CaveatCheck, discharges?: Macaroon[]): void;
      exportJSON(): MacaroonJSON;
      /** Version 2 binary format (version 1 macaroons cannot be exported as binary). */
      exportBinary(): Uint8Array;
    }

    interface NewMacaroonParams {
      identifier: string | Uint8Array;
      location?: string;
      rootKey: string | Uint8Array;
      /** 1 or 2 (the default). */
      version?: 1 | 2;
    }

    function newMacaroon(params: NewMacaroonParams): Macaroon;
    /** A string is base64 (standard or URL-safe, padded or not) of the binary form. */
    function importMacaroon(obj: string | Uint8Array | MacaroonJSON): Macaroon;
    function importMacaroons(obj: string | Uint8Array | MacaroonJSON | MacaroonJSON[]): Macaroon[];
    function dischargeMacaroon(
      macaroon: Macaroon,
      getDischarge: (
        firstPartyLocation: string,
        thirdPartyLocation: string,
        caveatId: Uint8Array,
        success: (discharge: Macaroon) => void,
        failure: (err: unknown) => void,
      ) => void,
      onOk: (macaroons: Macaroon[]) => void,
      onError: (err: unknown) => void,
    ): void;
    /** URL-safe, unpadded. */
    function bytesToBase64(bytes: Uint8Array): string;
    function base64ToBytes(s: string): Uint8Array;
  }

  export = macaroon;
}

/**
 * The fonts SVG is drawn with. A WebAssembly renderer sees no system fonts, so it is given
 * DejaVu, read from the npm package `dejavu-fonts-ttf`: the family matplotlib draws charts in,
 * TrueType (resvg reads no WOFF), and there on any machine that can install the host, unlike
 * `/usr/share/fonts`. The generic families map to it, so any `font-family` gets drawn.
 *
 * @module
 */
// Imported only so that Deno fetches the font package with the host; the fonts are read as files.
import "dejavu-fonts-ttf/package.json" with { type: "json" };

const FONT_FILES = [
  "DejaVuSans.ttf",
  "DejaVuSans-Bold.ttf",
  "DejaVuSans-Oblique.ttf",
  "DejaVuSans-BoldOblique.ttf",
  "DejaVuSansMono.ttf",
  "DejaVuSerif.ttf",
];

/** resvg's font options: the DejaVu faces, and which one each generic family means. */
export interface FontOptions {
  fontBuffers: Uint8Array[];
  defaultFontFamily: string;
  sansSerifFamily: string;
  serifFamily: string;
  monospaceFamily: string;
}

/** Reads the font files (about 3.5 MB) into resvg's font options. */
export async function loadFonts(): Promise<FontOptions> {
  const fontBuffers = await Promise.all(
    FONT_FILES.map((f) => Deno.readFile(new URL(import.meta.resolve(`dejavu-fonts-ttf/ttf/${f}`)))),
  );
  return {
    fontBuffers,
    defaultFontFamily: "DejaVu Sans",
    sansSerifFamily: "DejaVu Sans",
    serifFamily: "DejaVu Serif",
    monospaceFamily: "DejaVu Sans Mono",
  };
}

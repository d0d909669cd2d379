// Words with a colour that most people would agree on. The model compares a prompt's vector with these
// words' vectors and mixes their colours into the image's palette, so "crimson sunset" leans red and
// orange and "mossy forest" leans green without any training. Colours are hand-picked sRGB.

export interface ColourAnchor {
  readonly word: string;
  readonly rgb: string;
}

export const COLOUR_ANCHORS: readonly ColourAnchor[] = [
  // colour names
  { word: "red", rgb: "#d7263d" },
  { word: "crimson", rgb: "#b3123a" },
  { word: "scarlet", rgb: "#e8301c" },
  { word: "orange", rgb: "#f77f00" },
  { word: "amber", rgb: "#ffb000" },
  { word: "yellow", rgb: "#ffd23f" },
  { word: "gold", rgb: "#d4a017" },
  { word: "green", rgb: "#3a9d23" },
  { word: "emerald", rgb: "#0b8f5a" },
  { word: "jade", rgb: "#00a86b" },
  { word: "olive", rgb: "#708238" },
  { word: "lime", rgb: "#a4d65e" },
  { word: "teal", rgb: "#008080" },
  { word: "turquoise", rgb: "#30d5c8" },
  { word: "blue", rgb: "#1f5fbf" },
  { word: "azure", rgb: "#3a8fd9" },
  { word: "navy", rgb: "#14213d" },
  { word: "indigo", rgb: "#3f2b96" },
  { word: "violet", rgb: "#8a4fff" },
  { word: "purple", rgb: "#6a2c91" },
  { word: "lavender", rgb: "#b497d6" },
  { word: "magenta", rgb: "#d1007a" },
  { word: "pink", rgb: "#ff77a8" },
  { word: "rose", rgb: "#e0607e" },
  { word: "coral", rgb: "#ff7f50" },
  { word: "peach", rgb: "#ffb38a" },
  { word: "brown", rgb: "#7b4a2a" },
  { word: "rust", rgb: "#b7410e" },
  { word: "copper", rgb: "#b87333" },
  { word: "silver", rgb: "#c0c6cc" },
  { word: "white", rgb: "#f4f1ea" },
  { word: "black", rgb: "#101014" },
  { word: "ivory", rgb: "#f6f0dc" },
  // colour adjectives
  { word: "golden", rgb: "#e6b422" },
  { word: "fiery", rgb: "#ff4500" },
  { word: "icy", rgb: "#c9eef7" },
  { word: "snowy", rgb: "#f1f6f9" },
  { word: "sunny", rgb: "#ffd54a" },
  { word: "misty", rgb: "#c5ccd3" },
  { word: "stormy", rgb: "#465566" },
  // light and time of day
  { word: "sunset", rgb: "#f26b38" },
  { word: "sunrise", rgb: "#ffa45c" },
  { word: "dawn", rgb: "#f7c6a3" },
  { word: "dusk", rgb: "#5b4a7a" },
  { word: "night", rgb: "#101a3a" },
  { word: "midnight", rgb: "#0b1030" },
  { word: "sky", rgb: "#87bfe8" },
  { word: "cloud", rgb: "#dfe6ee" },
  { word: "sun", rgb: "#ffc93c" },
  { word: "moon", rgb: "#d8dbe8" },
  { word: "light", rgb: "#fff3cf" },
  { word: "shadow", rgb: "#2a2a35" },
  { word: "neon", rgb: "#ff2bd6" },
  { word: "space", rgb: "#0b0b2b" },
  { word: "galaxy", rgb: "#3a1c71" },
  // fire and weather
  { word: "fire", rgb: "#ff5a1f" },
  { word: "flame", rgb: "#ff8c1a" },
  { word: "lava", rgb: "#cf2a0a" },
  { word: "smoke", rgb: "#6e6a6a" },
  { word: "storm", rgb: "#3c4a5c" },
  { word: "rain", rgb: "#5f7d95" },
  { word: "fog", rgb: "#b8c0c4" },
  { word: "snow", rgb: "#eef4f8" },
  { word: "ice", rgb: "#bfe6f5" },
  { word: "winter", rgb: "#b9d3e6" },
  // water
  { word: "sea", rgb: "#1b6f9c" },
  { word: "ocean", rgb: "#0e4d8c" },
  { word: "water", rgb: "#3d8fc6" },
  { word: "river", rgb: "#3b7fa0" },
  { word: "lake", rgb: "#2d6e8e" },
  { word: "beach", rgb: "#f2d49b" },
  { word: "tropical", rgb: "#00b5a3" },
  // land and plants
  { word: "forest", rgb: "#1f5b33" },
  { word: "tree", rgb: "#2e6b30" },
  { word: "leaf", rgb: "#5a9e3a" },
  { word: "grass", rgb: "#6aa84f" },
  { word: "moss", rgb: "#5c7a29" },
  { word: "jungle", rgb: "#1d6b3a" },
  { word: "spring", rgb: "#9bd770" },
  { word: "summer", rgb: "#ffcf56" },
  { word: "autumn", rgb: "#c8641e" },
  { word: "flower", rgb: "#e66fa8" },
  { word: "blossom", rgb: "#f7b6c8" },
  { word: "desert", rgb: "#d9a066" },
  { word: "sand", rgb: "#e3c58b" },
  { word: "earth", rgb: "#7a5a3a" },
  { word: "mountain", rgb: "#5d6b7a" },
  { word: "stone", rgb: "#8c8a83" },
  // materials and things
  { word: "blood", rgb: "#8a0303" },
  { word: "wine", rgb: "#722f37" },
  { word: "cherry", rgb: "#c2185b" },
  { word: "lemon", rgb: "#fff44f" },
  { word: "honey", rgb: "#e6a817" },
  { word: "chocolate", rgb: "#5a3825" },
  { word: "coffee", rgb: "#6f4e37" },
  { word: "candy", rgb: "#ff8fcf" },
  { word: "steel", rgb: "#7b8a99" },
  { word: "glass", rgb: "#cfe8ef" },
  { word: "crystal", rgb: "#bde0fe" },
  { word: "pearl", rgb: "#eae0c8" },
  { word: "sapphire", rgb: "#0f52ba" },
  { word: "ruby", rgb: "#9b111e" },
  { word: "amethyst", rgb: "#9966cc" },
  { word: "city", rgb: "#5a6275" },
];

/** sRGB channels of a "#rrggbb" colour, scaled to [0, 1]. */
export function parseRgb(hex: string): [number, number, number] {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/.exec(hex);
  if (!match) throw new Error(`not a #rrggbb colour: ${hex}`);
  return [1, 2, 3].map((i) => parseInt(match[i]!, 16) / 255) as [number, number, number];
}

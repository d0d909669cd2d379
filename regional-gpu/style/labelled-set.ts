// A labelled set the project renders itself, to validate the style embedding: themes of related
// prompts, each rendered with several seeds. Relevant to an image: the other images of its theme
// (the same prompt with another seed, or a related prompt); everything else is unrelated.

export const STYLE_THEMES: Record<string, readonly string[]> = {
  sunset: [
    "red sunset over the sea",
    "crimson sunset above the ocean",
    "orange sunset on the water",
  ],
  forest: ["green mossy forest", "emerald forest in the rain", "lush green woodland"],
  neon: ["neon city at night", "cyberpunk street at midnight", "magenta neon lights in the dark"],
  harbour: [
    "a quiet harbour at dawn, teal and amber",
    "teal boats in an amber morning harbour",
    "amber dawn over a teal bay",
  ],
  winter: ["icy winter mountains", "snowy glacier under a pale sky", "frozen lake in winter"],
  desert: ["golden desert dunes", "sandy desert at noon", "amber sand dunes under the sun"],
  lavender: ["lavender field at dusk", "violet flowers in bloom", "purple twilight meadow"],
  ocean: ["deep blue ocean waves", "azure sea under a clear sky", "navy blue water"],
  fire: ["fiery volcano eruption", "flames and burning embers", "scarlet fire in the night"],
  blossom: ["pink cherry blossoms", "rose garden in spring", "peach blossom petals"],
  storm: ["stormy grey sky", "dark thunderstorm clouds", "misty grey rain"],
  autumn: ["autumn leaves rust and copper", "brown autumn forest", "copper and rust fallen leaves"],
};

export const STYLE_SEEDS = [11, 22, 33] as const;

export interface LabelledImage {
  theme: string;
  prompt: string;
  seed: number;
}

export function labelledSet(): LabelledImage[] {
  return Object.entries(STYLE_THEMES).flatMap(([theme, prompts]) =>
    prompts.flatMap((prompt) => STYLE_SEEDS.map((seed) => ({ theme, prompt, seed }))),
  );
}

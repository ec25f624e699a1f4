"""The story source: a probabilistic grammar of children's stories with exact probabilities (chapter 1).

The grammar is one program, :func:`_story`, that makes every random choice
through a *chooser*: ``ch.pick(name, options, dist)`` writes one of the
strings ``options`` (drawn with the probabilities ``dist``) and returns its
index; ``ch.emit(text)`` writes fixed text.  Three choosers run the same program:

* :class:`_Sampler` draws the choices with a seeded ``random.Random`` and records
  the log-probability of the derivation it made;
* :class:`_Replay` runs the program *against* a given text, keeping at every pick
  only the options whose string matches the text at the current position; when
  several match it explores each (depth first, by re-running with the choices so
  far forced), so the probability of a text is the sum over *all* derivations
  that write it exactly:

      P(text) = sum_{d : text(d) = text} prod_{picks in d} p(option)   (ch. 1, eq. hist-source)

* :class:`_Enumerator` walks every derivation of a reduced grammar (each option
  list cut to its first few entries), which lets the tests check that the
  probabilities of all distinct texts sum to 1.

Stories: a hero (name, kind, pronouns) is introduced, then an object and a
place; a problem (lost, stuck, broken, taken, wet, scared) happens to the
object; a helper (a new friend or a family member) is introduced and helps;
a resolution and sometimes a moral follow, referring back to the hero by
name and pronoun and to "the <object>" found at the start.

Run ``python -m genphys.stories --n 10000 --out stories.txt`` to write a
corpus in TinyStories format and print its exact entropy in bits per byte.
"""

from __future__ import annotations

import argparse
import bisect
import functools
import json
import math
import random
import re
import sys
import time
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from genphys import validate
from genphys.histories import EOT, GAISystem, NGramModel, check_tokens

__all__ = ["VERSION", "SEPARATOR", "ALPHABET", "generate", "stream_with_log_prob", "stream", "sample",
           "sample_with_log_prob", "sample_with_mentions", "repeat_mentions", "derivation_log_probs", "log_prob",
           "next_char_distribution", "prefix_log_prob", "enumerate_stories", "n_bytes", "entropy_bits_per_byte",
           "to_bytes", "BYTE_VOCAB", "byte_ngram", "ngram_ladder", "StorySourceModel", "write_corpus", "UNITS",
           "read_stories", "main"]

#: Version of the grammar: artifacts computed from the source record it, so a change is never silent.
VERSION = 2

#: Line that separates stories in TinyStories text files: the end-of-text token.
SEPARATOR = EOT

LN2 = math.log(2.0)
#: Most stories one call samples (``n``): a bound that keeps a mistyped count from running for days.
MAX_STORIES = 10**7


# --------------------------------------------------------------------------- lexicon
def _words(text: str) -> tuple[str, ...]:
    return tuple(w.replace("_", " ") for w in text.split())


GIRL_NAMES = _words("""
Lily Mia Emma Sara Anna Lucy Zoe Ella Amy Sophie Grace Chloe Ruby Daisy Rosie Molly Lola Ivy Hannah
Nora Clara Alice Maya Jenny Kitty Bella Sally Polly Susie Jane Kate Mary Ellie Tina Wendy Gina Nina Fiona
Holly Penny Hazel Violet Olive Stella Luna Willow Pippa Poppy Julia Megan Abby Jess Fern Iris June Tess
Lena Dora Greta Heidi Lottie Mabel Nell Opal Quinn Rita Thea Uma Vera Xena Yara Zara Betty Cora Edith
Flora Gemma Ada Bonnie Dolly Emmy Frida Gwen Hattie Ingrid Josie Kira Lucia Maisie Nancy Olga Pearl
""")
BOY_NAMES = _words("""
Tom Ben Max Sam Jack Leo Tim Jake Finn Noah Luke Oscar Theo Henry Oliver Charlie Alfie Harry Billy Bobby
Danny Eddie Freddie George Jimmy Joe Kevin Larry Mark Ned Pete Ricky Ryan Toby Ted Victor Walter Zack
Adam Eli Felix Hugo Ivan Jonah Kai Liam Milo Nate Otis Paul Ray Rex Seth Tucker Vince Dan Bruno Arlo
Archie Barney Cody Dexter Ethan Frank Gus Hank Iggy Jasper Kenny Lenny Marco Nico Ollie Percy Rory
Simon Tony Ulysses Wally Xavier Yusuf Zeke Albert Boris Colin Dylan Emil Fred Gary Hector Igor Jonas
""")
ANIMALS = _words("""
cat dog bunny bear bird fox frog duck mouse owl pig cow horse lion tiger monkey puppy kitten squirrel
turtle fish bee butterfly ladybug elephant giraffe zebra deer goat sheep lamb chick hen hippo panda
koala penguin seal whale dolphin snail ant spider worm raccoon hedgehog otter crab parrot robin donkey
pony kangaroo camel wolf moose badger mole swan goose
""")
CHAR_ADJ = _words("""
little big happy kind small shy brave curious funny silly clever gentle friendly tiny cheerful sleepy
playful quiet busy smart sweet young old fluffy bright jolly lively proud careful helpful polite honest
lazy grumpy bouncy cute wise bold eager lucky chatty daring dreamy fancy fuzzy giggly hungry merry
noisy patient tidy speedy spotty sporty thoughtful
""")
OBJECTS = _words("""
ball kite doll drum book hat scarf shoe boot sock mitten cup bowl spoon plate box basket bag bucket shovel
blanket pillow rope stick stone shell feather flower leaf acorn apple cookie cake crayon pencil paintbrush
picture map key lamp bell whistle horn flute guitar piano trumpet robot truck train boat plane rocket bike
wagon sled umbrella balloon wand crown necklace ring bracelet button ribbon jar bottle mirror clock watch
coin treasure_chest puzzle block marble yo-yo puppet mask cape jacket coat sweater dress skirt backpack
lunchbox sandwich banana pear cherry grape egg nest pumpkin tent ladder bench chair rug quilt teapot
kettle teddy_bear toy_car toy_boat jump_rope music_box snow_globe fishing_rod paper_boat sand_pail
watering_can magnifying_glass compass flashlight lantern camera telescope radio xylophone tambourine
harmonica violin keyboard helmet glove mitt bat racket skateboard scooter tricycle hula_hoop frisbee
jigsaw kazoo pinwheel rattle beanbag cushion stool basket_of_berries bird_feeder flowerpot seashell
pebble crystal gem feather_duster paper_crown party_hat birthday_card letter postcard sticker notebook
""")
OBJ_ADJ = _words("""
red blue green yellow pink purple white black brown gray golden silver shiny sparkly fuzzy soft smooth
bumpy heavy light tiny huge round square striped spotted pretty beautiful special magic wooden plastic
paper colorful bright clean warm cozy strange secret lovely fancy simple shiny_new little big old
""")
PLACES = _words("""
park garden forest beach lake river pond farm zoo school library playground meadow hill field backyard
kitchen barn market store castle cave jungle island mountain valley village town city street bakery
museum circus fair swamp woods orchard bridge hospital station harbor desert treehouse sandbox pool
camp toy_shop flower_shop ice_rink candy_store pet_shop attic basement porch
""")
COLORS = _words("red blue green yellow pink purple orange white black brown gray")
HOBBIES = _words("""
play_outside draw_pictures sing_songs dance read_books run_fast jump_high climb_trees swim_in_the_lake
ride_a_bike bake_cookies build_towers paint fly_kites pick_flowers chase_butterflies look_at_the_stars
count_the_clouds splash_in_puddles collect_shells watch_the_birds plant_seeds tell_jokes
play_hide_and_seek make_forts skip_rocks hum_little_tunes roll_in_the_grass blow_bubbles
play_the_drum help_in_the_garden feed_the_ducks dig_in_the_sand stack_blocks make_mud_pies
play_dress-up sail_toy_boats look_for_bugs jump_on_the_bed
""")
FOODS = _words("""
cookies cake pie soup bread apples bananas cherries grapes berries carrots pizza pancakes muffins
cupcakes ice_cream sandwiches cheese honey jam noodles rice corn peas beans popcorn lemonade milk juice
toast waffles oatmeal porridge salad tomatoes peaches plums nuts crackers pudding
""")
FAMILY = _words("mom dad grandma grandpa sister brother aunt uncle")
FAMILY_GENDER = {"mom": "f", "dad": "m", "grandma": "f", "grandpa": "m", "sister": "f", "brother": "m",
                 "aunt": "f", "uncle": "m"}
SCENERY = _words("""
bushes big_tree rocks bench flowers slide swings fence tall_grass old_log wall shed bed table chair
door window boxes stairs blanket
""")
TREES = _words("oak pine apple maple cherry willow palm birch elm fir")
SAD = _words("sad upset worried scared unhappy grumpy lonely afraid angry frustrated nervous confused")
HAPPY = _words("happy glad excited proud joyful thankful cheerful relieved delighted pleased surprised")
NAUGHTY = _words("naughty sneaky hungry playful cheeky greedy silly curious")
MORALS = _words("""
sharing_is_caring it_is_good_to_help_friends friends_make_everything_better being_kind_is_the_best
you_should_never_give_up it_is_okay_to_ask_for_help being_brave_is_important
good_things_come_to_those_who_wait it_is_important_to_be_careful listening_to_others_is_wise
a_friend_in_need_is_a_friend_indeed working_together_makes_hard_things_easy
saying_sorry_can_make_things_right trying_again_is_always_worth_it a_little_help_goes_a_long_way
""")
TIMES = _words("""
morning afternoon evening day sunny_day rainy_day summer_day winter_morning spring_morning fall_afternoon
windy_day cold_night
""")
WHERE_FOUND = _words("""
under_a_tree near_the_door in_the_grass behind_the_house on_the_path by_the_window under_the_bed
in_an_old_box next_to_a_big_rock in_the_sand
""")
FIX_WITH = _words("glue tape string a_needle_and_thread a_little_hammer some_nails a_bandage sticky_paper")


def _article(phrase: str) -> str:
    """'a' or 'an' before ``phrase``."""
    vowel = phrase[0] in "aeiouAEIOU" and not phrase.startswith(("uni", "use", "Uly"))
    return "an" if vowel or phrase.startswith(("hon", "hour")) else "a"


def _zipf(n: int, s: float = 0.9) -> tuple[float, ...]:
    return tuple(1.0 / (i + 2) ** s for i in range(n))


# --------------------------------------------------------------------------- distributions
class _Dist:
    """Normalised probabilities of a pick, with their logs and cumulative sums."""

    __slots__ = ("probs", "logs", "cum")

    def __init__(self, weights: Sequence[float]):
        total = math.fsum(weights)
        if len(weights) == 0 or total <= 0 or min(weights) < 0:
            raise ValueError("pick weights must be non-negative with a positive sum")
        self.probs = tuple(w / total for w in weights)
        self.logs = tuple(math.log(p) if p > 0 else -math.inf for p in self.probs)
        acc, cum = 0.0, []
        for p in self.probs:
            acc += p
            cum.append(acc)
        self.cum = tuple(cum)

    def __len__(self) -> int:
        return len(self.probs)

    @functools.lru_cache(maxsize=None)
    def restricted(self, allowed) -> "_Dist":
        """Only the options ``allowed`` (an int k: the first k possible ones; or a tuple of indices),
        renormalised.  The other options keep their place with probability 0, so indices do not move.
        """
        if isinstance(allowed, int):
            keep = set([i for i, p in enumerate(self.probs) if p > 0][:allowed])
        else:
            keep = set(allowed)
        if keep >= set(range(len(self.probs))):
            return self
        weights = tuple(p if i in keep else 0.0 for i, p in enumerate(self.probs))
        if not any(weights):
            raise ValueError(f"reduced grammar keeps none of the options {sorted(keep)}")
        return _Dist(weights)


@functools.lru_cache(maxsize=None)
def _dist(weights: tuple[float, ...]) -> _Dist:
    return _Dist(weights)


def _uniform(n: int) -> _Dist:
    return _dist((1.0,) * n)


# --------------------------------------------------------------------------- choosers
class _Dead(Exception):
    """This derivation cannot write the target text."""


class _Stop(Exception):
    """Prefix mode: the derivation has written past the prefix."""


class _Chooser:
    """Shared part of the choosers: the reduced grammar's restriction of option lists.

    ``keep`` maps a pick name to an int k (keep its first k options) or a tuple of
    option indices; key ``"*"`` gives the default for other picks (1 if absent).
    """

    def __init__(self, keep: dict | None):
        self.keep = keep
        self.parts: list[str] = []
        self.logp = 0.0

    def emit(self, text):
        self.parts.append(text)

    def mention(self, word: str):
        """The program introduced an entity (a name, the object, the place); only :class:`_Mentions` keeps it."""

    def _cut(self, name: str, options: Sequence[str], dist: _Dist):
        if len(options) != len(dist):
            raise AssertionError(f"pick {name!r}: {len(options)} options, {len(dist)} probabilities")
        if self.keep is None:
            return options, dist
        return options, dist.restricted(self.keep.get(name, self.keep.get("*", 1)))


class _Sampler(_Chooser):
    """Draws every pick with ``rng`` and records the derivation's log-probability."""

    def __init__(self, rng: random.Random, keep: dict | None = None):
        super().__init__(keep)
        self.rng = rng

    def pick(self, name, options, dist):
        options, dist = self._cut(name, options, dist)
        i = min(bisect.bisect_right(dist.cum, self.rng.random() * dist.cum[-1]), len(dist) - 1)
        while dist.probs[i] == 0:
            i -= 1
        self.logp += dist.logs[i]
        self.parts.append(options[i])
        return i


class _Replay(_Chooser):
    """Runs the program against ``text``; see the module docstring.

    ``forced`` fixes the first picks (indices); alternatives met after them are
    appended to ``branches``.  In prefix mode (``prefix=True``) a derivation
    stops as soon as it writes past ``len(text)``, and ``records`` collects
    (next character or None for end of story, log-probability).
    """

    def __init__(self, text: str, forced: Sequence[int], prefix: bool, keep: dict | None = None):
        super().__init__(keep)
        self.text, self.L, self.pos = text, len(text), 0
        self.forced, self.prefix = forced, prefix
        self.path: list[int] = []
        self.branches: list[list[int]] = []
        self.records: list[tuple[str | None, float]] = []

    def pick(self, name, options, dist):
        options, dist = self._cut(name, options, dist)
        n = len(self.path)
        if n < len(self.forced):
            i = self.forced[n]
            self._advance(options[i])
        else:
            text, pos, L = self.text, self.pos, self.L
            cands = []
            for i, opt in enumerate(options):
                if dist.probs[i] == 0:
                    continue
                if pos + len(opt) <= L:
                    if text.startswith(opt, pos):
                        cands.append(i)
                elif self.prefix and text.startswith(opt[:L - pos], pos):
                    self.records.append((opt[L - pos], self.logp + dist.logs[i]))
            if not cands:
                raise _Dead
            for j in cands[1:]:
                self.branches.append(self.path + [j])
            i = cands[0]
            self.pos += len(options[i])
        self.path.append(i)
        self.logp += dist.logs[i]
        return i

    def _advance(self, opt):
        self.pos += len(opt)

    def emit(self, text):
        pos, L = self.pos, self.L
        if pos + len(text) <= L:
            if not self.text.startswith(text, pos):
                raise _Dead
            self.pos += len(text)
        elif self.prefix and self.text.startswith(text[:L - pos], pos):
            self.records.append((text[L - pos], self.logp))
            raise _Stop
        else:
            raise _Dead


class _Enumerator(_Chooser):
    """Takes option 0 at every new pick and queues every other option (all derivations)."""

    def __init__(self, forced: Sequence[int], keep: dict):
        super().__init__(keep)
        self.forced, self.path = forced, []
        self.branches: list[list[int]] = []

    def pick(self, name, options, dist):
        options, dist = self._cut(name, options, dist)
        n = len(self.path)
        if n < len(self.forced):
            i = self.forced[n]
        else:
            nz = [j for j in range(len(dist)) if dist.probs[j] > 0]
            i = nz[0]
            self.branches.extend(self.path + [j] for j in nz[1:])
        self.path.append(i)
        self.logp += dist.logs[i]
        self.parts.append(options[i])
        return i


# --------------------------------------------------------------------------- the grammar
class _Who:
    """A character: name, kind and pronouns."""

    __slots__ = ("name", "Name", "call", "kind", "he", "him", "his")

    def __init__(self, name: str, kind: str, female: bool, call: str | None = None):
        self.name, self.Name, self.kind, self.call = name, _cap(name), kind, call or name
        self.he, self.him, self.his = ("she", "her", "her") if female else ("he", "him", "his")


def _cap(s: str) -> str:
    return s[0].upper() + s[1:]


def _lex(words: Sequence[str], s: float = 0.9):
    """A word list with Zipf-like weights: (words, their distribution)."""
    return tuple(words), _dist(_zipf(len(words), s))


_NAMES_F, _NAMES_M = _lex(GIRL_NAMES), _lex(BOY_NAMES)
_ANIMALS = _lex(ANIMALS, 0.7)
_FEMALE = frozenset(GIRL_NAMES)
_CHAR_ADJ = _lex(CHAR_ADJ)
_OBJECTS = _lex(OBJECTS, 0.7)
_OBJ_ADJ = _lex(OBJ_ADJ)
_PLACES = _lex(PLACES, 0.8)
_FOODS = _lex(FOODS)
_HOBBIES = _lex(HOBBIES, 0.6)


def _noun_phrase(ch, name: str, adjs, nouns, p_adj: float, article: bool = True):
    """'a <adj> <noun>' or 'a <noun>' in two picks; the first pick writes article and adjective,
    or article and noun, so the options never overlap.  Returns (adjective or '', noun)."""
    a_words, n_words, n_dist = adjs[0], nouns[0], nouns[1]
    first, dist = _first_options(adjs, nouns, p_adj, article)
    i = ch.pick(name + ".first", first, dist)
    if i >= len(a_words):
        return "", n_words[i - len(a_words)]
    return a_words[i], n_words[ch.pick(name + ".noun", n_words, n_dist)]


@functools.lru_cache(maxsize=None)
def _first_options(adjs, nouns, p_adj: float, article: bool):
    """Options and distribution of the first pick of :func:`_noun_phrase`."""
    (a_words, a_dist), (n_words, n_dist) = adjs, nouns
    first = [f"{_article(a)} {a} " if article else f"{a} " for a in a_words]
    first += [f"{_article(n)} {n}" if article else n for n in n_words]
    weights = tuple(p_adj * p for p in a_dist.probs) + tuple((1 - p_adj) * p for p in n_dist.probs)
    return tuple(first), _dist(weights)


def _name(ch, name: str, female: bool | None, avoid: str = ""):
    """A name; ``female=None`` draws from both lists (then the name fixes the pronouns)."""
    words, dist = _name_list(female, avoid)
    i = ch.pick(name, words, dist)
    return words[i], (female if female is not None else words[i] in _FEMALE)


@functools.lru_cache(maxsize=None)
def _name_list(female: bool | None, avoid: str):
    if female is None:
        words = _NAMES_F[0] + _NAMES_M[0]
        dist = _dist(tuple(0.5 * p for p in _NAMES_F[1].probs) + tuple(0.5 * p for p in _NAMES_M[1].probs))
    else:
        words, dist = _NAMES_F if female else _NAMES_M
    if avoid:
        keep = [k for k, w in enumerate(words) if w != avoid]
        words, dist = tuple(words[k] for k in keep), _dist(tuple(dist.probs[k] for k in keep))
    return words, dist


_KINDS_HERO = (("girl", "boy") + ANIMALS, _dist((0.25, 0.25) + tuple(0.5 * p for p in _ANIMALS[1].probs)))
_KINDS_HELPER = (("girl", "boy") + ANIMALS, _dist((0.2, 0.2) + tuple(0.6 * p for p in _ANIMALS[1].probs)))


def _hero(ch) -> _Who:
    """Setting: the opening sentence introduces the hero (kind first, then the name, which fixes pronouns)."""
    ch.pick("open", ["Once upon a time, there was ", "One day, there was ", "There once was ",
                     "Long ago, in a little town, there lived ", "Once, there was "], _dist((4, 2, 2, 1, 1)))
    _, kind = _noun_phrase(ch, "hero.kind", _CHAR_ADJ, _KINDS_HERO, 0.7)
    ch.pick("named", [" named ", " called "], _dist((3, 1)))
    female = True if kind == "girl" else False if kind == "boy" else None
    name, female = _name(ch, "hero.name", female)
    ch.emit(".")
    return _Who(name, kind, female)


def _describe(ch, hero: _Who):
    """One to three sentences about the hero; after the first, an empty option stops."""
    starts = [f" {_cap(hero.he)} loved to ", f" Every day, {hero.he} liked to ",
              f" {_cap(hero.his)} favorite color was ", f" {_cap(hero.he)} was very ",
              f" {_cap(hero.he)} lived with {hero.his} "]
    weights = [3, 2, 2, 2, 1]
    for k in range(3):
        if k == 0:
            s = ch.pick("describe", starts, _dist(tuple(weights)))
        else:
            s = ch.pick("describe.more", starts + [""], _dist(tuple(weights) + (10 + 5 * k,)))
            if s == len(starts):
                return
        weights[s] = 0
        if s <= 1:
            ch.pick("hobby", *_HOBBIES)
        elif s == 2:
            ch.pick("color", COLORS, _uniform(len(COLORS)))
        elif s == 3:
            ch.pick("trait", *_CHAR_ADJ)
        else:
            ch.pick("family", FAMILY, _uniform(len(FAMILY)))
            ch.pick("home", [" in a little house", " near the woods", " by the sea", " in a big city",
                             " on a farm"], _uniform(5))
        ch.emit(".")


def _object(ch, hero: _Who) -> str:
    """The object of the story, introduced with an adjective or not; returns the object noun."""
    s = ch.pick("obj.intro", [f" One day, {hero.name} found ", f" One day, {hero.name}'s ",
                              f" {hero.name} had "], _dist((3, 2, 2)))
    if s == 1:
        ch.pick("giver", FAMILY, _uniform(len(FAMILY)))
        ch.emit(f" gave {hero.him} ")
    _, obj = _noun_phrase(ch, "obj", _OBJ_ADJ, _OBJECTS, 0.6)
    if s == 0:
        ch.emit(" ")
        ch.pick("where.found", WHERE_FOUND, _uniform(len(WHERE_FOUND)))
        ch.emit(".")
    elif s == 1:
        ch.emit(" for " + ("her" if hero.he == "she" else "his") + " birthday.")
    else:
        ch.emit(f" that {hero.he} loved very much.")
    ch.pick("obj.like", ["", f" {_cap(hero.he)} took it everywhere.", f" It was {hero.his} favorite toy.",
                         f" {_cap(hero.he)} wanted to show it to everyone."], _dist((3, 1, 1, 1)))
    return obj


def _place(ch, hero: _Who, obj: str) -> str:
    ch.pick("place.go", [f" {_cap(hero.he)} took the {obj} to the ", f" {hero.name} went to the ",
                             f" Then {hero.he} ran to the "], _dist((2, 2, 1)))
    i = ch.pick("place", *_PLACES)
    ch.pick("place.why", [".", " to play.", f" to play with the {obj}."], _dist((2, 1, 1)))
    return _PLACES[0][i]


SCENES = (
    " The sun was shining and the birds were singing.", " It was a warm and sunny day.",
    " The sky was blue and the wind was soft.", " There were many children there, running and laughing.",
    " The air smelled of flowers and fresh grass.", " Everything was quiet and calm.",
    " Big white clouds moved slowly across the sky.", " A little bird sang a happy song in a tree nearby.",
    " The leaves were red and gold, and they fell softly to the ground.",
    " It was cold, and the ground was covered with snow.",
)


def _scene(ch, hero: _Who, place: str):
    """A sentence about the place and the day, sometimes followed by what the hero did there."""
    ch.pick("scene", SCENES, _dist(_zipf(len(SCENES), 0.5)))
    ch.pick("scene.more", ["", f" {hero.name} played there for a long time.",
                           f" {_cap(hero.he)} was having so much fun at the {place}.",
                           f" {_cap(hero.he)} ran around and sang a little song."], _dist((3, 1, 1, 1)))


_PROBLEMS = ("lost", "stuck", "broken", "taken", "wet", "scared")


def _problem(ch, hero: _Who, obj: str, place: str) -> int:
    """The problem; returns its index in _PROBLEMS."""
    k = ch.pick("problem", [" But ", " Suddenly, ", " Then ", " Oh no! "], _dist((2, 2, 1, 1)))
    kinds = [f"when {hero.he} looked down, the {obj} was gone.", f"a big wind blew the {obj} up into a tall ",
             f"{hero.name} dropped the {obj}, and it broke.", "a ",
             "dark clouds came, and it started to rain.", f"{hero.name} heard a loud noise. "]
    p = ch.pick("problem.kind", [_cap(x) for x in kinds] if k == 3 else kinds, _dist((3, 2, 2, 2, 1, 1)))
    if p == 0:
        ch.pick("look", [f" {hero.name} looked behind the ", f" {_cap(hero.he)} looked under the "],
                _uniform(2))
        ch.pick("scenery", SCENERY, _uniform(len(SCENERY)))
        ch.emit(f", but {hero.he} could not find it.")
    elif p == 1:
        ch.pick("tree", TREES, _uniform(len(TREES)))
        ch.emit(f" tree. {hero.name} could not reach it.")
    elif p == 3:
        ch.pick("naughty", NAUGHTY, _uniform(len(NAUGHTY)))
        ch.emit(" ")
        ch.pick("thief", *_ANIMALS)
        ch.emit(f" ran by and took the {obj}!")
    elif p == 4:
        ch.emit(f" The {obj} got all wet and dirty.")
    elif p == 5:
        ch.emit(f"{_cap(hero.he)} dropped the {obj} and hid behind a tree.")
    ch.pick("felt", [f" {hero.name} felt very ", f" {_cap(hero.he)} was so ", f" Poor {hero.name} was "],
            _dist((2, 2, 1)))
    ch.pick("sad", SAD, _uniform(len(SAD)))
    ch.emit(".")
    return p


def _helper(ch, hero: _Who) -> _Who:
    """A helper: a new friend (kind and name) or a family member."""
    s = ch.pick("helper", [" Just then, ", " Soon, ", f" Then {hero.his} "], _dist((2, 1, 1)))
    if s == 2:
        i = ch.pick("helper.family", FAMILY, _uniform(len(FAMILY)))
        who = FAMILY[i]
        ch.emit(" came to help.")
        return _Who(f"{hero.his} {who}", who, FAMILY_GENDER[who] == "f", call=_cap(who))
    _, kind = _noun_phrase(ch, "helper.kind", _CHAR_ADJ, _KINDS_HELPER, 0.5)
    ch.emit(" named ")
    female = True if kind == "girl" else False if kind == "boy" else None
    name, female = _name(ch, "helper.name", female, avoid=hero.name)
    ch.pick("came", [" came by.", " walked over.", " saw what happened.", " was passing by."],
            _dist((2, 1, 1, 1)))
    friend = _Who(name, kind, female)
    if ch.pick("helper.about", ["", f" {name} was a "], _dist((1, 1))):
        ch.pick("helper.trait", *_CHAR_ADJ)
        ch.emit(f" {kind} who liked to ")
        ch.pick("helper.hobby", *_HOBBIES)
        ch.emit(".")
    return friend


def _dialogue(ch, hero: _Who, helper: _Who, obj: str, problem: int):
    ch.pick("ask", [f' "Why are you sad, {hero.name}?" asked {helper.name}.',
                          f' {helper.Name} asked, "What is wrong?"',
                          f' "Are you okay?" said {helper.name}.'], _dist((2, 2, 1)))
    line = (f"I lost my {obj}", f"My {obj} is stuck in the tree", f"My {obj} is broken",
            f"An animal took my {obj}", f"My {obj} is all wet", "I heard a scary noise")[problem]
    ch.pick("tell", [f' {hero.name} said, "{line}."', f' "{line}," said {hero.name}.',
                     f' {hero.name} told {helper.him} what happened.'], _dist((2, 2, 1)))
    ch.pick("promise", ["", f' "Do not worry, I will help you," said {helper.name}.',
                        f' {helper.Name} smiled and said, "Let us fix this together."'], _dist((2, 2, 1)))


def _help(ch, hero: _Who, helper: _Who, obj: str, problem: int, place: str):
    h = helper.Name
    if problem == 0:
        ch.emit(f" {h} helped {hero.him} look. They looked near the ")
        ch.pick("scenery", SCENERY, _uniform(len(SCENERY)))
        ch.emit(" and all around the " + place + ". At last, they found the " + obj + " ")
        ch.pick("where.found", WHERE_FOUND, _uniform(len(WHERE_FOUND)))
        ch.emit("!")
    elif problem == 1:
        ch.pick("unstick", [f" {h} climbed up the tree and got the {obj} down.",
                            f" {h} found a long stick and pushed the {obj} down.",
                            f" {h} got a ladder, and {hero.name} climbed up to get the {obj}."],
                _dist((2, 2, 1)))
    elif problem == 2:
        ch.emit(f" {h} fixed the {obj} with ")
        ch.pick("fix", FIX_WITH, _uniform(len(FIX_WITH)))
        ch.emit(". Soon it was as good as new.")
    elif problem == 3:
        ch.pick("chase", [f" {h} and {hero.name} ran after the animal. It dropped the {obj} and ran away.",
                          f" {h} asked the animal to give it back, and it did."], _uniform(2))
    elif problem == 4:
        ch.emit(f" {h} took {hero.name} inside and they dried the {obj} with a towel.")
    else:
        ch.pick("calm", [f" {h} held {hero.his} hand. The noise was only a ",
                         f" {h} laughed. It was just a "], _uniform(2))
        ch.pick("noise", ["truck", "dog barking", "door closing", "big drum", "clap of thunder",
                          "balloon popping"], _uniform(6))
        ch.emit(f". {hero.name} picked up the {obj} again.")


def _resolution(ch, hero: _Who, helper: _Who, obj: str, place: str):
    """Happy ending; a pronoun would be ambiguous when hero and helper share it, so the name is used."""
    he = hero.name if hero.he == helper.he else hero.he
    ch.pick("felt.happy", [f" {hero.name} was so ", f" Now {he} felt ", f" {_cap(he)} was very "],
            _dist((2, 1, 1)))
    ch.pick("happy", HAPPY, _uniform(len(HAPPY)))
    ch.emit(".")
    ch.pick("thanks", [f' "Thank you, {helper.call}!" {he} said.',
                       f" {_cap(he)} gave {helper.name} a big hug.",
                       f' {hero.name} smiled and said, "You are a good friend."'], _dist((3, 2, 1)))
    after = [f" They played with the {obj} all day.", " Then they went home and ate ",
             f" They stayed at the {place} until the sun went down.",
             f" {hero.name} let {helper.name} play with the {obj} too.",
             " They laughed and played until it was time for bed.", ""]
    weights = [2, 2, 1, 1, 1, 5]
    for k in range(2):
        s = ch.pick("after", after, _dist(tuple(weights)))
        weights[s], weights[-1] = 0, 10
        if s == len(after) - 1:
            return
        if s == 1:
            ch.pick("food", *_FOODS)
            ch.emit(" together.")


def _moral(ch, hero: _Who):
    s = ch.pick("moral.kind", ["", f" {hero.name} learned that ", " From that day on, " + hero.name
                               + " knew that ", " The lesson is that "], _dist((2, 2, 1, 1)))
    if s:
        ch.pick("moral", MORALS, _uniform(len(MORALS)))
        ch.emit(".")
    ch.pick("end", ["", " The end."], _dist((4, 1)))


def _story(ch) -> None:
    """The whole story, written through the chooser ``ch`` (the generative program)."""
    hero = _hero(ch)
    ch.mention(hero.name)
    _describe(ch, hero)
    obj = _object(ch, hero)
    ch.mention(obj)
    place = _place(ch, hero, obj)
    ch.mention(place)
    _scene(ch, hero, place)
    problem = _problem(ch, hero, obj, place)
    helper = _helper(ch, hero)
    ch.mention(helper.kind if helper.call != helper.name else helper.name)
    _dialogue(ch, hero, helper, obj, problem)
    _help(ch, hero, helper, obj, problem, place)
    _resolution(ch, hero, helper, obj, place)
    _moral(ch, hero)


# --------------------------------------------------------------------------- public API
#: Every character a story can contain (the token set of :class:`StorySourceModel`).
ALPHABET = "".join(sorted(set(
    " !\"',-.?" + "abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ")))


def generate(rng: random.Random, keep: dict | None = None, program=None) -> tuple[str, float]:
    """One story drawn with ``rng`` and the natural-log probability of the derivation that wrote it.

    ``keep`` restricts the grammar (see :class:`_Chooser`); ``program`` replaces
    the story program by another chooser program (tests use toy grammars).
    """
    validate.instance(rng, "rng", random.Random, "a random.Random")
    keep, program = _grammar(keep, program)
    ch = _Sampler(rng, keep)
    (program or _story)(ch)
    return "".join(ch.parts), ch.logp


def _grammar(keep, program):
    """``keep`` (a dict or None) and ``program`` (a callable or None), checked."""
    if keep is not None:
        validate.instance(keep, "keep", dict, "a dict of pick name -> options kept, or None")
    if program is not None and not callable(program):
        raise TypeError(f"program must be a callable chooser program or None, got {type(program).__name__}")
    return keep, program


def _count(n, name: str = "n", low: int = 0) -> int:
    return validate.integer(n, name, low=low, high=MAX_STORIES)


def stream_with_log_prob(seed: int, keep: dict | None = None) -> Iterator[tuple[str, float]]:
    """Unlimited (story, derivation log-probability) pairs, deterministic per ``seed`` (checked at the call)."""
    rng = random.Random(validate.seed(seed))
    keep, _ = _grammar(keep, None)

    def pairs():
        while True:
            yield generate(rng, keep)
    return pairs()


def stream(seed: int) -> Iterator[str]:
    """Unlimited stories, deterministic per ``seed`` (checked at the call)."""
    return (text for text, _ in stream_with_log_prob(seed))


def sample(n: int, seed: int) -> list[str]:
    """The first ``n`` stories of :func:`stream` (``seed``); ``n`` at most ``MAX_STORIES``."""
    n = _count(n)
    it = stream(seed)
    return [next(it) for _ in range(n)]


def sample_with_log_prob(n: int, seed: int, keep: dict | None = None) -> list[tuple[str, float]]:
    """The first ``n`` (story, derivation log-probability) pairs of :func:`stream_with_log_prob`."""
    n = _count(n)
    it = stream_with_log_prob(seed, keep)
    return [next(it) for _ in range(n)]


class _Mentions(_Sampler):
    """A sampler that also keeps the entities the program introduces (:meth:`_Chooser.mention`)."""

    def __init__(self, rng: random.Random):
        super().__init__(rng)
        self.entities: list[str] = []

    def mention(self, word: str):
        self.entities.append(word)


def sample_with_mentions(n: int, seed: int) -> list[tuple[str, list[tuple[int, int]]]]:
    """The stories of :func:`sample` (same seed, same stories), each with the character spans of its repeat mentions.

    The program knows its entities - the hero's and the helper's names (or the family word of a
    family helper), the object and the place.  A *repeat mention* is a whole-word occurrence of
    an entity after its first occurrence in the story: the tokens a model can only predict well
    by remembering what the story said earlier.
    """
    rng = random.Random(validate.seed(seed, "seed"))
    out = []
    for _ in range(_count(n)):
        ch = _Mentions(rng)
        _story(ch)
        story = "".join(ch.parts)
        out.append((story, repeat_mentions(story, ch.entities)))
    return out


def repeat_mentions(story: str, entities: Sequence[str]) -> list[tuple[int, int]]:
    """Sorted ``(start, end)`` character spans of every whole-word occurrence of an entity but its first."""
    spans = set()
    validate.text(story, "story")
    if isinstance(entities, (str, bytes)) or not isinstance(entities, (Sequence, set, frozenset)):
        raise TypeError(f"entities must be a sequence of words (str), got {type(entities).__name__}")
    for word in set(validate.text(e, "entities[]") for e in entities):
        hits = [m.span() for m in re.finditer(r"\b" + re.escape(word) + r"\b", validate.text(story, "story"))]
        spans.update(hits[1:])
    return sorted(spans)


def _explore(text: str, prefix: bool, keep: dict | None, program=None):
    """Depth-first search over all derivations consistent with ``text`` (module docstring)."""
    validate.text(text, "prefix" if prefix else "story")
    keep, program = _grammar(keep, program)
    stack: list[list[int]] = [[]]
    complete: list[float] = []
    records: list[tuple[str | None, float]] = []
    while stack:
        ch = _Replay(text, stack.pop(), prefix, keep)
        try:
            (program or _story)(ch)
            if ch.pos == ch.L:
                (records.append((None, ch.logp)) if prefix else complete.append(ch.logp))
        except (_Dead, _Stop):
            pass
        stack.extend(ch.branches)
        records.extend(ch.records)
    return complete, records


def derivation_log_probs(story: str, keep: dict | None = None, program=None) -> list[float]:
    """Log-probabilities of every derivation of the grammar that writes exactly ``story``."""
    return _explore(story, False, keep, program)[0]


def _logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    return top + math.log(math.fsum(math.exp(v - top) for v in values))


def log_prob(story: str, keep: dict | None = None, program=None) -> float:
    """Exact ln P(story) under the source: log of the sum over all its derivations (eq. hist-source).

    ValueError if the source cannot write ``story``.
    """
    logs = derivation_log_probs(story, keep, program)
    if not logs:
        raise ValueError(f"the story source cannot produce this text: {story[:60]!r}...")
    return _logsumexp(logs)


def next_char_distribution(prefix: str, keep: dict | None = None, program=None) -> dict[str | None, float]:
    """Exact p(next character | prefix); key None is the end of the story.

    p(c | prefix) = P(prefix c ...) / P(prefix ...), both sums over derivations;
    ValueError if no story starts with ``prefix``.
    """
    _, records = _explore(prefix, True, keep, program)
    if not records:
        raise ValueError(f"no story of the source starts with {prefix[-60:]!r}")
    top = max(lp for _, lp in records)
    mass: dict[str | None, float] = {}
    for c, lp in records:
        mass[c] = mass.get(c, 0.0) + math.exp(lp - top)
    total = math.fsum(mass.values())
    return {c: m / total for c, m in sorted(mass.items(), key=lambda kv: (kv[0] is not None, kv[0] or ""))}


def prefix_log_prob(prefix: str, keep: dict | None = None, program=None) -> float:
    """ln P(a story starts with ``prefix``) (-inf when none does)."""
    _, records = _explore(prefix, True, keep, program)
    return _logsumexp([lp for _, lp in records]) if records else -math.inf


def enumerate_stories(keep: dict, max_derivations: int = 200_000,
                      program=None) -> tuple[dict[str, float], int]:
    """All texts of the reduced grammar ``keep`` with their probabilities, and the number of derivations.

    ``keep`` maps pick names to the options kept (an int k: the first k, or a
    tuple of indices; key ``"*"`` for the rest, default 1); the probability of
    a text sums all its derivations.
    """
    validate.instance(keep, "keep", dict, "a dict of pick name -> number of options kept")
    max_derivations = validate.integer(max_derivations, "max_derivations", low=1)
    _grammar(keep, program)
    stack: list[list[int]] = [[]]
    texts: dict[str, list[float]] = {}
    count = 0
    while stack:
        ch = _Enumerator(stack.pop(), keep)
        (program or _story)(ch)
        stack.extend(ch.branches)
        texts.setdefault("".join(ch.parts), []).append(ch.logp)
        count += 1
        if count > max_derivations:
            raise ValueError(f"the reduced grammar has more than {max_derivations} derivations; keep fewer options")
    return {t: math.exp(_logsumexp(v)) for t, v in texts.items()}, count


def n_bytes(story: str) -> int:
    """UTF-8 bytes of a story (the unit of bits per byte)."""
    return len(validate.text(story, "story").encode("utf-8"))


def entropy_bits_per_byte(n: int, seed: int, stories: Sequence[str] | None = None) -> dict:
    """The source's entropy rate in bits per byte, estimated from ``n`` stories of ``seed``.

    H = sum_i -log2 P(s_i) / sum_i bytes(s_i) (ch. 1, eq. hist-entropy): a ratio
    estimator, whose 95 % interval comes from the delta method,
    Var(H) ~ Var(a_i - H b_i) / (n mean(b)^2) with a_i = -log2 P(s_i), b_i = bytes(s_i).
    Separators are excluded; each story's probability includes its ending.
    """
    n = _count(n, low=2)
    if stories is None:
        stories = sample(n, seed)
    elif isinstance(stories, str) or not isinstance(stories, Sequence) or len(stories) != n:
        raise ValueError(f"stories must be a list of n = {n} stories")
    elif not all(isinstance(s, str) for s in stories):
        raise TypeError("stories must hold the stories as str")
    a = [-log_prob(s) / LN2 for s in stories]
    b = [n_bytes(s) for s in stories]
    rate = math.fsum(a) / sum(b)
    resid = [ai - rate * bi for ai, bi in zip(a, b)]
    mean_r = math.fsum(resid) / n
    var = math.fsum((r - mean_r) ** 2 for r in resid) / (n - 1)
    se = math.sqrt(var / n) / (sum(b) / n)
    return {"mean": rate, "ci95_low": rate - 1.96 * se, "ci95_high": rate + 1.96 * se, "stderr": se,
            "stories": n, "bytes": sum(b), "bits_per_story": math.fsum(a) / n, "seed": seed}


def to_bytes(story: str) -> list[int]:
    """A story as a list of byte values (the tokens of the n-gram ladder)."""
    return list(validate.text(story, "story").encode("utf-8"))


#: Token names of byte-level models: byte 0 (never in a story) is the end of a story.
BYTE_VOCAB = (EOT,) + tuple(f"\\x{i:02x}" for i in range(1, 256))


def byte_ngram(order: int, train: Sequence[str], discount: float = 0.75) -> NGramModel:
    """A byte-level :class:`~genphys.histories.NGramModel` of ``order`` counted on the stories ``train``."""
    if isinstance(train, (str, bytes)) or not isinstance(train, Sequence) or not all(isinstance(s, str) for s in train):
        raise TypeError("train must be a list of stories (str), not one str")
    return NGramModel(BYTE_VOCAB, 0, order, discount).fit([to_bytes(s) for s in train])


def ngram_ladder(orders: Sequence[int] = (1, 2, 3, 4, 5), n_train: int = 2000, n_test: int = 200,
                 train_seed: int = 1, test_seed: int = 2, discount: float = 0.75) -> dict:
    """Held-out cross-entropy (bits per byte) of byte n-gram models against the exact entropy.

    Each order is an interpolated absolute-discounting n-gram (NGramModel)
    counted on ``n_train`` stories of ``train_seed`` and scored on ``n_test``
    stories of ``test_seed``: sum of -log2 p over every byte and the story's end,
    divided by the stories' bytes (the same unit as :func:`entropy_bits_per_byte`,
    whose value on the same test stories is returned as ``exact``).
    """
    _count(n_train, "n_train", low=1)
    _count(n_test, "n_test", low=2)
    validate.seed(train_seed, "train_seed")
    validate.seed(test_seed, "test_seed")
    if isinstance(orders, (str, bytes)) or not isinstance(orders, Sequence) or not orders:
        raise TypeError("orders must be a non-empty sequence of n-gram orders (ints >= 1)")
    for k, order in enumerate(orders):
        validate.integer(order, f"orders[{k}]", low=1)
    train = sample(n_train, train_seed)
    test_text = sample(n_test, test_seed)
    test = [to_bytes(s) for s in test_text]
    total_bytes = sum(len(t) for t in test)
    rows = []
    for n in orders:
        model = byte_ngram(n, train, discount)
        rows.append({"order": n, "bits_per_byte": model.total_nll(test) / LN2 / total_bytes})
    exact = entropy_bits_per_byte(n_test, test_seed, stories=test_text)
    return {"orders": rows, "exact": exact, "n_train": n_train, "n_test": n_test,
            "train_bytes": sum(map(n_bytes, train)), "test_bytes": total_bytes,
            "discount": discount}


class StorySourceModel(GAISystem):
    """The exact story source as a GAI system over characters (chapter 1).

    Tokens are the characters the source can write plus ``<|endoftext|>``; the
    conditional of the next character is exact: P(prefix c) / P(prefix), both
    sums over all derivations of the grammar.
    """

    def __init__(self):
        self.vocab = tuple(ALPHABET) + (EOT,)
        self.eot = len(self.vocab) - 1
        self._index = {c: i for i, c in enumerate(self.vocab)}

    def text(self, tokens: Sequence[int]) -> str:
        """Token indices (no eot) to the text they spell."""
        return "".join(self.vocab[t] for t in check_tokens(tokens, self.V, "tokens") if t != self.eot)

    def tokens(self, text: str) -> tuple[int, ...]:
        """A text to token indices (ValueError for a character the source never writes)."""
        validate.text(text, "text")
        try:
            return tuple(self._index[c] for c in text)
        except KeyError as err:
            raise ValueError(f"character {err.args[0]!r} is never written by the story source") from None

    def conditional(self, history, prompt=()):
        """p(c | text so far) from the source's exact prefix probabilities."""
        seq = check_tokens(prompt, self.V, "prompt") + check_tokens(history, self.V, "history")
        if self.eot in seq:
            raise ValueError("the story source has no continuation after end-of-text")
        dist = next_char_distribution(self.text(seq))
        p = np.zeros(self.V)
        for ch, prob in dist.items():
            p[self.eot if ch is None else self._index[ch]] += prob
        return p



def write_corpus(path, n: int, seed: int) -> dict:
    """Write ``n`` stories of ``seed`` to ``path`` in TinyStories format (each followed by a SEPARATOR line).

    The file appears complete or not at all (written atomically, :mod:`genphys.files`).
    """
    from genphys import files

    path = Path(validate.instance(path, "path", (str, Path), "a file path"))
    n, seed = _count(n), validate.seed(seed)
    count, size = 0, 0
    with files.atomic_open(path, "w") as f:
        for story in sample(n, seed):
            f.write(story + "\n" + SEPARATOR + "\n")
            count, size = count + 1, size + n_bytes(story)
    return {"path": str(path), "stories": count, "bytes": size}


#: How :func:`read_stories` cuts a text file into stories.
UNITS = ("story", "paragraph")


def read_stories(path, unit: str = "story") -> Iterator[str]:
    """Stories of a text file, streamed line by line, stripped, empty ones skipped.

    ``unit="story"``: the TinyStories format, stories separated by lines holding only
    :data:`SEPARATOR` (a file without any separator is refused: say how to cut it);
    ``unit="paragraph"``: stories separated by blank lines.  The file must be UTF-8: an error
    names the file and the byte offset of the first invalid byte.
    """
    unit = validate.one_of(unit, "unit", UNITS)
    path = Path(validate.instance(path, "path", (str, Path), "a file path"))
    if not path.is_file():
        raise FileNotFoundError(f"text file {str(path)!r} not found")
    return _read_stories(path, unit)


def _read_stories(path: Path, unit: str) -> Iterator[str]:
    lines: list[str] = []
    offset, separators = 0, 0
    with path.open("rb") as handle:
        for raw in handle:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise ValueError(f"{path} is not UTF-8 text: invalid byte at offset {offset + err.start}") from None
            offset += len(raw)
            is_break = line.strip() == SEPARATOR if unit == "story" else not line.strip()
            if not is_break:
                lines.append(line)
                continue
            separators += 1
            story = "".join(lines).strip()
            lines = []
            if story:
                yield story
    story = "".join(lines).strip()
    if unit == "story" and not separators and story:
        raise ValueError(f"{path} holds no {SEPARATOR!r} line between stories; "
                         "cut it another way (unit='paragraph', on the command line --unit paragraph)")
    if story:
        yield story


def main(argv: Sequence[str] | None = None) -> dict:
    """Command line: write a corpus and print its exact entropy in bits per byte (last line JSON)."""
    from genphys import cli, files

    parser = argparse.ArgumentParser(prog="python -m genphys.stories", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=cli.integer(2), default=10_000, help="number of stories (>= 2: the interval needs two)")
    parser.add_argument("--seed", type=cli.integer(0, 2**32 - 1), default=0)
    parser.add_argument("--out", type=Path, default=None, help="corpus file (TinyStories format)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    stories = sample(args.n, args.seed)
    if args.out is not None:
        try:
            with files.atomic_open(args.out, "w") as f:
                f.writelines(s + "\n" + SEPARATOR + "\n" for s in stories)
        except OSError as err:
            cli.fail(parser.prog, f"cannot write {args.out}: {err.strerror or err}")
        print(f"wrote {args.n} stories to {args.out}")
    h = entropy_bits_per_byte(args.n, args.seed, stories=stories)
    words = [len(s.split()) for s in stories]
    print(f"exact entropy: {h['mean']:.4f} bits per byte (95% CI {h['ci95_low']:.4f} - {h['ci95_high']:.4f}) "
          f"over {h['stories']} stories, {h['bytes']} bytes; {h['bits_per_story']:.1f} bits per story; "
          f"{sum(words) / len(words):.0f} words per story")
    out = {"entropy_bits_per_byte": h["mean"], "ci95_low": h["ci95_low"], "ci95_high": h["ci95_high"],
           "stories": h["stories"], "bytes": h["bytes"], "seed": args.seed,
           "out": str(args.out) if args.out else None, "wall_s": round(time.perf_counter() - start, 2)}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])

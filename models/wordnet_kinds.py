"""Each ImageNet class's kinds from WordNet 3.0: the lemmas of its hypernyms,
nearest first, so that a category word ("dog", "bird", "vehicle") finds every
class it covers. ImageNet's class ids are WordNet noun offsets ("n02084071").

Usage: python wordnet_kinds.py /usr/share/wordnet/data.noun LABELS.tsv OUT.tsv [RELATED.tsv]

LABELS.tsv is the classifier's `wnid<TAB>names<TAB>definition`; OUT.tsv gets
`wnid<TAB>kind|kind|...`, each kind its lemmas joined by ", ".

RELATED.tsv gets, for each noun with no ImageNet class of its kind ("deer":
ImageNet has no deer), the nearest kind at most two steps up that has some
("ruminant": antelopes, gazelles, ...): `noun<TAB>kind's first lemma`.
"""
import sys


def read_nouns(path):
    """offset -> (lemmas, hypernym offsets) from WordNet's data.noun."""
    synsets = {}
    with open(path, encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "):  # the licence header
                continue
            fields = line.split(" | ")[0].split()
            offset, words = fields[0], int(fields[3], 16)
            lemmas = [fields[4 + 2 * i].replace("_", " ") for i in range(words)]
            at = 4 + 2 * words
            pointers = int(fields[at])
            hypernyms = []
            for i in range(pointers):
                symbol, target, pos = fields[at + 1 + 4 * i: at + 4 + 4 * i]
                if symbol in ("@", "@i") and pos == "n":
                    hypernyms.append(target)
            synsets[offset] = (lemmas, hypernyms)
    return synsets


def kinds(synsets, offset):
    """The hypernyms of `offset`, nearest first (breadth first), each once."""
    seen, order, frontier = {offset}, [], list(synsets[offset][1])
    while frontier:
        nxt = []
        for o in frontier:
            if o in seen or o not in synsets:
                continue
            seen.add(o)
            order.append(o)
            nxt.extend(synsets[o][1])
        frontier = nxt
    return order


PHYSICAL_ENTITY = "00001930"
# A kind with more classes than this says too little to stand for a word.
MOST_CLASSES = 40


def related(synsets, class_offsets, out):
    """Nouns with no class of their kind -> the nearest kind above that has one."""
    covering, classes_under = set(), {}
    for o in class_offsets:
        if o in synsets:
            for k in [o] + kinds(synsets, o):
                covering.add(k)
                classes_under[k] = classes_under.get(k, 0) + 1
    # A word that names a kind with classes (in any of its senses) is matched by kinds already.
    named = {l.lower() for o in covering for l in synsets[o][0]}
    best = {}
    for offset, (lemmas, hypernyms) in synsets.items():
        if offset in covering:
            continue
        frontier, found = hypernyms, None
        for _ in range(2):
            hits = [h for h in frontier if h in covering]
            if hits:
                found = hits[0]
                break
            frontier = [g for h in frontier if h in synsets for g in synsets[h][1]]
        if found is None or classes_under[found] > MOST_CLASSES or PHYSICAL_ENTITY not in kinds(synsets, found):
            continue
        for lemma in lemmas:
            if lemma.lower() not in named:
                best.setdefault(lemma.lower(), synsets[found][0][0])
    with open(out, "w") as w:
        for lemma in sorted(best):
            w.write(f"{lemma}\t{best[lemma]}\n")


def main(nouns, labels, out, related_out=None):
    synsets = read_nouns(nouns)
    if related_out:
        offsets = [l.split("\t", 1)[0].lstrip("n") for l in open(labels)]
        related(synsets, offsets, related_out)
    with open(labels) as f, open(out, "w") as w:
        for line in f:
            wnid = line.split("\t", 1)[0]
            offset = wnid.lstrip("n")
            if offset not in synsets:
                w.write(f"{wnid}\t\n")
                continue
            w.write(wnid + "\t" + "|".join(", ".join(synsets[o][0]) for o in kinds(synsets, offset)) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:5])

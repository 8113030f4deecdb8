"""Each ImageNet class's kinds from WordNet 3.0: the lemmas of its hypernyms,
nearest first, so that a category word ("dog", "bird", "vehicle") finds every
class it covers. ImageNet's class ids are WordNet noun offsets ("n02084071").

Usage: python wordnet_kinds.py /usr/share/wordnet/data.noun LABELS.tsv OUT.tsv

LABELS.tsv is the classifier's `wnid<TAB>names<TAB>definition`; OUT.tsv gets
`wnid<TAB>kind|kind|...`, each kind its lemmas joined by ", ".
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


def main(nouns, labels, out):
    synsets = read_nouns(nouns)
    with open(labels) as f, open(out, "w") as w:
        for line in f:
            wnid = line.split("\t", 1)[0]
            offset = wnid.lstrip("n")
            if offset not in synsets:
                w.write(f"{wnid}\t\n")
                continue
            w.write(wnid + "\t" + "|".join(", ".join(synsets[o][0]) for o in kinds(synsets, offset)) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])

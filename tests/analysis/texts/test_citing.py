from __future__ import annotations

from jobs.analysis.texts.citing import keep_cited, passages_of, prompt_input, split_sentences

ANALYSES = [
    {
        "title": "Iris",
        "document_id": 1,
        "answers": [{"quote": "- Number of Instances: 150", "start": 10, "end": 36}],
        "anchors": [
            {"quote": "The data set contains 3 classes\nof 50 instances each.", "start": 50,
             "end": 103},
            {"quote": "- Number of Instances: 150", "start": 10, "end": 36},
        ],
    }
]  # fmt: skip


def test_passages_are_numbered_once_each_and_flattened():
    passages = passages_of(ANALYSES)

    assert [p["id"] for p in passages] == ["P1", "P2"]
    assert passages[1]["quote"] == "The data set contains 3 classes of 50 instances each."
    assert "[P2] (Iris) The data set" in prompt_input("How many?", passages)


def test_only_sentences_citing_a_given_passage_are_kept():
    passages = passages_of(ANALYSES)
    answer = (
        "## Answer\n- The set has 150 instances [P1].\nIt has 3 classes. [P2] "
        "It was collected in 1936. Another claim [P7]."
    )

    cited = keep_cited(answer, passages)

    assert [s["text"] for s in cited["sentences"]] == [
        "- The set has 150 instances [P1].",
        "It has 3 classes. [P2]",
    ]
    assert [s["passages"] for s in cited["sentences"]] == [["P1"], ["P2"]]
    assert cited["dropped"] == 3
    assert split_sentences("One [P1]. Two [P1, P2].") == ["One [P1].", "Two [P1, P2]."]

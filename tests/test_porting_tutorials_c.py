"""The sequence, language and generative tutorials of PyTorch's site, each redone here as a
small program written once against a library module `T` and run with `T = torch` and
`T = ember` (the harness of test_porting_programs): an n-gram language model and CBOW, an
LSTM part-of-speech tagger, a Bi-LSTM CRF, the char-RNN name classifier and generator, a
seq2seq translator in the tutorial's two forms, a Transformer language model, an
nn.Transformer translator with greedy decoding, an EmbeddingBag text classifier, a DCGAN,
a convolutional VAE, a spatial transformer, knowledge distillation and a DQN update. The
programs are written from the tutorials' descriptions at tiny sizes; random draws of the
libraries are not compared, only their shapes. The findings they led to are pinned at the
end, each in a test of its own."""

from __future__ import annotations

import math
import os
import random
import tempfile
import warnings
from collections import deque, namedtuple

import numpy as np
import pytest

import ember
from conftest import outcome, requires_torch
from test_porting_programs import _both, _np, _start

pytestmark = requires_torch


def _floats(rng, *shape, scale: float = 1.0) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)


# ---- 1. "Word embeddings": an n-gram language model and CBOW -------------------------------

_SONNET = """when forty winters shall besiege thy brow and dig deep trenches in thy beauty's
field thy youth's proud livery so gazed on now will be a totter'd weed of small worth held""".split()


def _ngram(T, shared: dict) -> dict:
    nn, F = T.nn, T.nn.functional
    context_size, embedding_dim = 2, 5
    ngrams = [
        ([_SONNET[i - j - 1] for j in range(context_size)], _SONNET[i])
        for i in range(context_size, len(_SONNET))
    ]
    vocab = sorted(set(_SONNET))
    word_to_ix = {word: i for i, word in enumerate(vocab)}

    class NGramLanguageModeler(nn.Module):
        def __init__(self, vocab_size, embedding_dim, context_size):
            super().__init__()
            self.embeddings = nn.Embedding(vocab_size, embedding_dim)
            self.linear1 = nn.Linear(context_size * embedding_dim, 16)
            self.linear2 = nn.Linear(16, vocab_size)

        def forward(self, inputs):
            embeds = self.embeddings(inputs).view((1, -1))
            out = F.relu(self.linear1(embeds))
            out = self.linear2(out)
            return F.log_softmax(out, dim=1)

    class CBOW(nn.Module):
        def __init__(self, vocab_size, embedding_dim):
            super().__init__()
            self.embeddings = nn.Embedding(vocab_size, embedding_dim)
            self.proj = nn.Linear(embedding_dim, vocab_size)

        def forward(self, inputs):
            return F.log_softmax(self.proj(self.embeddings(inputs).sum(dim=0, keepdim=True)), dim=-1)

    class Both(nn.Module):
        def __init__(self):
            super().__init__()
            self.ngram = NGramLanguageModeler(len(vocab), embedding_dim, context_size)
            self.cbow = CBOW(len(vocab), embedding_dim)

    both = _start(T, Both(), shared)
    model, cbow = both.ngram, both.cbow
    losses = []
    loss_function = nn.NLLLoss()
    optimizer = T.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(2):
        total_loss = 0
        for context, target in ngrams:
            context_idxs = T.tensor([word_to_ix[w] for w in context], dtype=T.long)
            model.zero_grad()
            log_probs = model(context_idxs)
            loss = loss_function(log_probs, T.tensor([word_to_ix[target]], dtype=T.long))
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
        losses.append(total_loss)
    out = {"ngram_losses": losses, "beauty": _np(model.embeddings.weight[word_to_ix["beauty's"]])}
    # CBOW: the two words either side predict the middle one
    data = [
        ([_SONNET[i - 2], _SONNET[i - 1], _SONNET[i + 1], _SONNET[i + 2]], _SONNET[i])
        for i in range(2, len(_SONNET) - 2)
    ]
    cbow_opt = T.optim.SGD(cbow.parameters(), lr=0.05, momentum=0.9)
    out["cbow_losses"] = []
    for context, target in data[:12]:
        cbow_opt.zero_grad()
        vector = T.tensor([word_to_ix[w] for w in context], dtype=T.long)
        loss = loss_function(cbow(vector), T.tensor([word_to_ix[target]]))
        loss.backward()
        cbow_opt.step()
        out["cbow_losses"].append(loss.item())
    with T.no_grad():
        out["cbow_guess"] = cbow(T.tensor([word_to_ix[w] for w in data[0][0]])).argmax(dim=1).numpy()
    return out


def test_word_embeddings_ngram_and_cbow() -> None:
    _both(_ngram)


# ---- 2. "Sequence models": an LSTM part-of-speech tagger ------------------------------------

_TAGGED = [
    ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
    ("Everybody read that book".split(), ["NN", "V", "DET", "NN"]),
]


def _pos_tagger(T, shared: dict) -> dict:
    nn, F = T.nn, T.nn.functional
    word_to_ix: dict = {}
    for sent, _ in _TAGGED:
        for word in sent:
            if word not in word_to_ix:
                word_to_ix[word] = len(word_to_ix)
    tag_to_ix = {"DET": 0, "NN": 1, "V": 2}

    def prepare_sequence(seq, to_ix):
        return T.tensor([to_ix[w] for w in seq], dtype=T.long)

    class LSTMTagger(nn.Module):
        def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
            super().__init__()
            self.hidden_dim = hidden_dim
            self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
            self.lstm = nn.LSTM(embedding_dim, hidden_dim)
            self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

        def forward(self, sentence):
            embeds = self.word_embeddings(sentence)
            lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
            tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
            return F.log_softmax(tag_space, dim=1)

    model = _start(T, LSTMTagger(6, 6, len(word_to_ix), len(tag_to_ix)), shared)
    loss_function = nn.NLLLoss()
    optimizer = T.optim.SGD(model.parameters(), lr=0.1)
    out: dict = {"loss": []}
    with T.no_grad():
        out["before"] = _np(model(prepare_sequence(_TAGGED[0][0], word_to_ix)))
    for _ in range(6):
        for sentence, tags in _TAGGED:
            model.zero_grad()
            tag_scores = model(prepare_sequence(sentence, word_to_ix))
            loss = loss_function(tag_scores, prepare_sequence(tags, tag_to_ix))
            loss.backward()
            optimizer.step()
            out["loss"].append(loss.item())
    with T.no_grad():
        out["after"] = _np(model(prepare_sequence(_TAGGED[0][0], word_to_ix)))
    # the tutorial's exercise: a character-level LSTM whose final state augments each word
    chars = nn.LSTM(3, 2)
    chars.load_state_dict({k: T.ones_like(v) * 0.1 for k, v in chars.state_dict().items()})
    _, (h, _) = chars(T.ones(4, 1, 3))
    out["char_state"] = _np(h.view(-1))
    # the page's warm-up: an LSTM fed one step at a time ends where the whole sequence does
    lstm = nn.LSTM(3, 3)
    lstm.load_state_dict(
        {k: T.linspace(-0.5, 0.5, v.numel()).view_as(v) for k, v in lstm.state_dict().items()}
    )
    inputs = [T.full((1, 3), 0.1 * i) for i in range(5)]
    hidden = (T.full((1, 1, 3), 0.2), T.full((1, 1, 3), -0.1))
    step_hidden = hidden
    for i in inputs:
        step_out, step_hidden = lstm(i.view(1, 1, -1), step_hidden)
    whole_out, whole_hidden = lstm(T.cat(inputs).view(len(inputs), 1, -1), hidden)
    out["step_vs_whole"] = [_np(step_out[0]), _np(whole_out[-1]), _np(whole_hidden[1][0])]
    return out


def test_lstm_part_of_speech_tagger() -> None:
    _both(_pos_tagger)


# ---- 3. "Advanced: Bi-LSTM CRF": the forward algorithm and Viterbi decoding -----------------


def _bilstm_crf(T, shared: dict) -> dict:
    nn = T.nn
    START_TAG, STOP_TAG = "<START>", "<STOP>"
    training_data = [
        (
            "the wall street journal reported today that apple corporation made money".split(),
            "B I I I O O O B I O O".split(),
        ),
        ("georgia tech is a university in georgia".split(), "B I O O O O B".split()),
    ]
    word_to_ix: dict = {}
    for sentence, _ in training_data:
        for word in sentence:
            word_to_ix.setdefault(word, len(word_to_ix))
    tag_to_ix = {"B": 0, "I": 1, "O": 2, START_TAG: 3, STOP_TAG: 4}

    def argmax(vec):
        _, idx = T.max(vec, 1)
        return idx.item()

    def log_sum_exp(vec):
        max_score = vec[0, argmax(vec)]
        max_score_broadcast = max_score.view(1, -1).expand(1, vec.size()[1])
        return max_score + T.log(T.sum(T.exp(vec - max_score_broadcast)))

    class BiLSTM_CRF(nn.Module):
        def __init__(self, vocab_size, tag_to_ix, embedding_dim, hidden_dim):
            super().__init__()
            self.hidden_dim = hidden_dim
            self.tag_to_ix = tag_to_ix
            self.tagset_size = len(tag_to_ix)
            self.word_embeds = nn.Embedding(vocab_size, embedding_dim)
            self.lstm = nn.LSTM(embedding_dim, hidden_dim // 2, num_layers=1, bidirectional=True)
            self.hidden2tag = nn.Linear(hidden_dim, self.tagset_size)
            self.transitions = nn.Parameter(T.randn(self.tagset_size, self.tagset_size))
            self.transitions.data[tag_to_ix[START_TAG], :] = -10000
            self.transitions.data[:, tag_to_ix[STOP_TAG]] = -10000
            self.hidden = self.init_hidden()

        def init_hidden(self):  # the tutorial draws randn here: zeros keep the two runs equal
            return (T.zeros(2, 1, self.hidden_dim // 2), T.zeros(2, 1, self.hidden_dim // 2))

        def _forward_alg(self, feats):
            init_alphas = T.full((1, self.tagset_size), -10000.0)
            init_alphas[0][self.tag_to_ix[START_TAG]] = 0.0
            forward_var = init_alphas
            for feat in feats:
                alphas_t = []
                for next_tag in range(self.tagset_size):
                    emit_score = feat[next_tag].view(1, -1).expand(1, self.tagset_size)
                    trans_score = self.transitions[next_tag].view(1, -1)
                    next_tag_var = forward_var + trans_score + emit_score
                    alphas_t.append(log_sum_exp(next_tag_var).view(1))
                forward_var = T.cat(alphas_t).view(1, -1)
            terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
            return log_sum_exp(terminal_var)

        def _get_lstm_features(self, sentence):
            self.hidden = self.init_hidden()
            embeds = self.word_embeds(sentence).view(len(sentence), 1, -1)
            lstm_out, self.hidden = self.lstm(embeds, self.hidden)
            lstm_out = lstm_out.view(len(sentence), self.hidden_dim)
            return self.hidden2tag(lstm_out)

        def _score_sentence(self, feats, tags):
            score = T.zeros(1)
            tags = T.cat([T.tensor([self.tag_to_ix[START_TAG]], dtype=T.long), tags])
            for i, feat in enumerate(feats):
                score = score + self.transitions[tags[i + 1], tags[i]] + feat[tags[i + 1]]
            return score + self.transitions[self.tag_to_ix[STOP_TAG], tags[-1]]

        def _viterbi_decode(self, feats):
            backpointers = []
            init_vvars = T.full((1, self.tagset_size), -10000.0)
            init_vvars[0][self.tag_to_ix[START_TAG]] = 0
            forward_var = init_vvars
            for feat in feats:
                bptrs_t, viterbivars_t = [], []
                for next_tag in range(self.tagset_size):
                    next_tag_var = forward_var + self.transitions[next_tag]
                    best_tag_id = argmax(next_tag_var)
                    bptrs_t.append(best_tag_id)
                    viterbivars_t.append(next_tag_var[0][best_tag_id].view(1))
                forward_var = (T.cat(viterbivars_t) + feat).view(1, -1)
                backpointers.append(bptrs_t)
            terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
            best_tag_id = argmax(terminal_var)
            path_score = terminal_var[0][best_tag_id]
            best_path = [best_tag_id]
            for bptrs_t in reversed(backpointers):
                best_tag_id = bptrs_t[best_tag_id]
                best_path.append(best_tag_id)
            start = best_path.pop()
            assert start == self.tag_to_ix[START_TAG]
            best_path.reverse()
            return path_score, best_path

        def neg_log_likelihood(self, sentence, tags):
            feats = self._get_lstm_features(sentence)
            return self._forward_alg(feats) - self._score_sentence(feats, tags)

        def forward(self, sentence):
            return self._viterbi_decode(self._get_lstm_features(sentence))

    def prepare_sequence(seq, to_ix):
        return T.tensor([to_ix[w] for w in seq], dtype=T.long)

    model = _start(T, BiLSTM_CRF(len(word_to_ix), tag_to_ix, 5, 4), shared)
    optimizer = T.optim.SGD(model.parameters(), lr=0.01, weight_decay=1e-4)
    out: dict = {"loss": []}
    with T.no_grad():
        score, path = model(prepare_sequence(training_data[0][0], word_to_ix))
        out["score_before"], out["path_before"] = score.item(), path
    for _ in range(3):
        for sentence, tags in training_data:
            model.zero_grad()
            targets = T.tensor([tag_to_ix[t] for t in tags], dtype=T.long)
            loss = model.neg_log_likelihood(prepare_sequence(sentence, word_to_ix), targets)
            loss.backward()
            optimizer.step()
            out["loss"].append(loss.item())
    out["loss_shape"] = list(loss.shape)
    with T.no_grad():
        score, path = model(prepare_sequence(training_data[1][0], word_to_ix))
        out["score_after"], out["path_after"] = score.item(), path
    out["transitions"] = _np(model.transitions)
    return out


def test_bilstm_crf_forward_algorithm_and_viterbi() -> None:
    _both(_bilstm_crf)


# ---- 4. "NLP from scratch": a char-RNN name classifier, a hand-written cell -----------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz '"
_NAMES = {
    "English": ["smith", "brown", "taylor"],
    "Italian": ["rossi", "russo", "ferrari"],
    "Japanese": ["sato", "suzuki", "takahashi"],
}


def _char_rnn_classifier(T, shared: dict) -> dict:
    nn = T.nn
    n_letters, n_hidden = len(_LETTERS), 8
    categories = list(_NAMES)

    def line_to_tensor(line):
        tensor = T.zeros(len(line), 1, n_letters)
        for li, letter in enumerate(line):
            tensor[li][0][_LETTERS.find(letter)] = 1
        return tensor

    class RNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super().__init__()
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
            self.h2o = nn.Linear(hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, input, hidden):
            hidden = T.tanh(self.i2h(T.cat((input, hidden), 1)))
            return self.softmax(self.h2o(hidden)), hidden

        def initHidden(self):
            return T.zeros(1, self.hidden_size)

    class CharRNN(nn.Module):  # the tutorial's newer form: nn.RNN over the whole name
        def __init__(self, input_size, hidden_size, output_size):
            super().__init__()
            self.rnn = nn.RNN(input_size, hidden_size)
            self.h2o = nn.Linear(hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, line_tensor):
            _, hidden = self.rnn(line_tensor)
            return self.softmax(self.h2o(hidden[0]))

    class Both(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = RNN(n_letters, n_hidden, len(categories))
            self.whole = CharRNN(n_letters, n_hidden, len(categories))

    both = _start(T, Both(), shared)
    rnn = both.cell
    criterion = nn.NLLLoss()
    learning_rate = 0.05

    def category_from_output(output):
        _, top_i = output.topk(1)
        category_i = top_i[0].item()
        return categories[category_i], category_i

    def train(category_tensor, line_tensor):
        hidden = rnn.initHidden()
        rnn.zero_grad()
        for i in range(line_tensor.size()[0]):
            output, hidden = rnn(line_tensor[i], hidden)
        loss = criterion(output, category_tensor)
        loss.backward()
        for p in rnn.parameters():
            p.data.add_(p.grad.data, alpha=-learning_rate)
        return output, loss.item()

    pairs = [(c, n) for c in categories for n in _NAMES[c]]
    # the newer form splits a Dataset by fractions with a generator made for the device
    device = T.device("cuda" if T.cuda.is_available() else "cpu")
    split = T.utils.data.random_split(
        pairs, [0.85, 0.15], generator=T.Generator(device=device).manual_seed(2024)
    )
    out_split = [len(part) for part in split] + [str(T.Generator(device=device).device)]
    out: dict = {"loss": [], "guess": [], "split": out_split}
    for _ in range(2):
        for category, name in pairs:
            category_tensor = T.tensor([categories.index(category)], dtype=T.long)
            output, loss = train(category_tensor, line_to_tensor(name))
            out["loss"].append(loss)
            out["guess"].append(category_from_output(output)[1])
    with T.no_grad():
        hidden = rnn.initHidden()
        for letter in line_to_tensor("sato"):
            output, hidden = rnn(letter, hidden)
        topv, topi = output.topk(3, 1, True)
        out["top_values"], out["top_indices"] = _np(topv), topi.numpy()
    # the newer form: a batch of one whole name through nn.RNN, SGD and clip_grad_norm_
    whole = both.whole
    optimizer = T.optim.SGD(whole.parameters(), lr=0.05)
    out["whole_loss"] = []
    for category, name in pairs[:5]:
        loss = criterion(whole(line_to_tensor(name)), T.tensor([categories.index(category)]))
        loss.backward()
        nn.utils.clip_grad_norm_(whole.parameters(), 3)
        optimizer.step()
        optimizer.zero_grad()
        out["whole_loss"].append(loss.item())
    return out


def test_char_rnn_name_classifier_with_manual_sgd() -> None:
    _both(_char_rnn_classifier)


# ---- 5. "NLP from scratch": a char-RNN name generator, sampling by multinomial and topk ------


def _char_rnn_generator(T, shared: dict) -> dict:
    nn = T.nn
    n_letters = len(_LETTERS) + 1  # plus an end-of-name marker
    categories = list(_NAMES)
    n_categories, n_hidden = len(categories), 10

    class RNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size, p_drop):
            super().__init__()
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
            self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
            self.o2o = nn.Linear(hidden_size + output_size, output_size)
            self.dropout = nn.Dropout(p_drop)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, category, input, hidden):
            input_combined = T.cat((category, input, hidden), 1)
            hidden = self.i2h(input_combined)
            output = self.i2o(input_combined)
            output = self.o2o(T.cat((hidden, output), 1))
            return self.softmax(self.dropout(output)), hidden

        def initHidden(self):
            return T.zeros(1, self.hidden_size)

    def category_tensor(category):
        tensor = T.zeros(1, n_categories)
        tensor[0][categories.index(category)] = 1
        return tensor

    def input_tensor(line):
        tensor = T.zeros(len(line), 1, n_letters)
        for li, letter in enumerate(line):
            tensor[li][0][_LETTERS.find(letter)] = 1
        return tensor

    def target_tensor(line):
        letter_indexes = [_LETTERS.find(line[li]) for li in range(1, len(line))]
        letter_indexes.append(n_letters - 1)
        return T.LongTensor(letter_indexes)

    rnn = _start(T, RNN(n_letters, n_hidden, n_letters, p_drop=0.0), shared)
    criterion = nn.NLLLoss()
    learning_rate = 0.05

    def train(cat, line):
        target_line_tensor = target_tensor(line)
        target_line_tensor.unsqueeze_(-1)
        hidden = rnn.initHidden()
        rnn.zero_grad()
        loss = T.Tensor([0])
        for i in range(len(line)):
            output, hidden = rnn(cat, input_tensor(line)[i], hidden)
            loss += criterion(output, target_line_tensor[i])
        loss.backward()
        for p in rnn.parameters():
            p.data.add_(p.grad.data, alpha=-learning_rate)
        return output, loss.item() / len(line)

    out: dict = {"loss": []}
    for category in categories:
        for name in _NAMES[category]:
            output, loss = train(category_tensor(category), name)
            out["loss"].append(loss)
    out["output_shape"] = list(output.shape)

    def sample(category, start_letter, max_length=8, draw=False):
        with T.no_grad():
            cat = category_tensor(category)
            inp = input_tensor(start_letter)
            hidden = rnn.initHidden()
            output_name = start_letter
            for _ in range(max_length):
                output, hidden = rnn(cat, inp[0], hidden)
                if draw:  # the library's own draw: its range only
                    topi = T.multinomial(output.exp(), 1)[0][0].item()
                else:
                    topv, topi = output.topk(1)
                    topi = topi[0][0]  # a 0-d tensor: compared with an int, indexes a str
                if topi == n_letters - 1:
                    break
                output_name += _LETTERS[topi]
                inp = input_tensor(_LETTERS[topi])
            return output_name

    out["greedy"] = [sample(c, s) for c, s in zip(categories, "brt")]
    drawn = [sample("Italian", "r", draw=True) for _ in range(3)]
    out["drawn"] = [d[0] == "r" and 1 <= len(d) <= 9 and set(d) <= set(_LETTERS) for d in drawn]
    probs = T.softmax(T.arange(6, dtype=T.float32), 0)
    out["multinomial_shape"] = list(T.multinomial(probs, 4).shape)
    out["batched_shape"] = list(T.multinomial(probs.expand(3, 6), 2, replacement=True).shape)
    out["without_replacement"] = T.multinomial(probs, 6).sort().values.tolist()  # each once
    out["dropout_kept"] = bool(
        (RNN(n_letters, n_hidden, n_letters, p_drop=0.1).eval().dropout(T.ones(5)) == 1).all()
    )
    return out


def test_char_rnn_name_generator_sampling() -> None:
    _both(_char_rnn_generator)


# ---- 6. "NLP from scratch": seq2seq translation, a GRU encoder and an additive-attention decoder


def _seq2seq_bahdanau(T, shared: dict) -> dict:
    nn, F = T.nn, T.nn.functional
    SOS_token, EOS_token, MAX_LENGTH = 0, 1, 5
    rng = np.random.default_rng(6)
    pairs = [(rng.integers(2, 10, size=4).tolist(), rng.integers(2, 9, size=3).tolist()) for _ in range(4)]

    def tensor_from_ids(ids):
        return T.tensor(ids + [EOS_token], dtype=T.long).view(1, -1)

    class EncoderRNN(nn.Module):
        def __init__(self, input_size, hidden_size, dropout_p):
            super().__init__()
            self.embedding = nn.Embedding(input_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, input):
            embedded = self.dropout(self.embedding(input))
            return self.gru(embedded)

    class BahdanauAttention(nn.Module):
        def __init__(self, hidden_size):
            super().__init__()
            self.Wa = nn.Linear(hidden_size, hidden_size)
            self.Ua = nn.Linear(hidden_size, hidden_size)
            self.Va = nn.Linear(hidden_size, 1)

        def forward(self, query, keys):
            scores = self.Va(T.tanh(self.Wa(query) + self.Ua(keys)))
            scores = scores.squeeze(2).unsqueeze(1)
            weights = F.softmax(scores, dim=-1)
            return T.bmm(weights, keys), weights

    class AttnDecoderRNN(nn.Module):
        def __init__(self, hidden_size, output_size, dropout_p):
            super().__init__()
            self.embedding = nn.Embedding(output_size, hidden_size)
            self.attention = BahdanauAttention(hidden_size)
            self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
            self.out = nn.Linear(hidden_size, output_size)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
            batch_size = encoder_outputs.size(0)
            decoder_input = T.empty(batch_size, 1, dtype=T.long).fill_(SOS_token)
            decoder_hidden = encoder_hidden
            decoder_outputs, attentions = [], []
            for i in range(MAX_LENGTH):
                decoder_output, decoder_hidden, attn_weights = self.forward_step(
                    decoder_input, decoder_hidden, encoder_outputs
                )
                decoder_outputs.append(decoder_output)
                attentions.append(attn_weights)
                if target_tensor is not None:
                    decoder_input = target_tensor[:, i].unsqueeze(1)  # teacher forcing
                else:
                    _, topi = decoder_output.topk(1)
                    decoder_input = topi.squeeze(-1).detach()
            decoder_outputs = F.log_softmax(T.cat(decoder_outputs, dim=1), dim=-1)
            return decoder_outputs, decoder_hidden, T.cat(attentions, dim=1)

        def forward_step(self, input, hidden, encoder_outputs):
            embedded = self.dropout(self.embedding(input))
            query = hidden.permute(1, 0, 2)
            context, attn_weights = self.attention(query, encoder_outputs)
            output, hidden = self.gru(T.cat((embedded, context), dim=2), hidden)
            return self.out(output), hidden, attn_weights

    class Translator(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = EncoderRNN(10, 8, dropout_p=0.0)
            self.decoder = AttnDecoderRNN(8, 9, dropout_p=0.0)

    model = _start(T, Translator(), shared)
    encoder, decoder = model.encoder, model.decoder
    encoder_optimizer = T.optim.Adam(encoder.parameters(), lr=0.01)
    decoder_optimizer = T.optim.Adam(decoder.parameters(), lr=0.01)
    criterion = nn.NLLLoss()
    inputs = T.cat([tensor_from_ids(p[0]) for p in pairs])
    targets = T.zeros(len(pairs), MAX_LENGTH, dtype=T.long)
    for i, (_, tgt) in enumerate(pairs):  # padded with EOS_token after the sentence's end
        targets[i, : len(tgt) + 1] = tensor_from_ids(tgt)[0]
        targets[i, len(tgt) + 1 :] = EOS_token
    loader = T.utils.data.DataLoader(T.utils.data.TensorDataset(inputs, targets), batch_size=2)
    out: dict = {"loss": []}
    for _ in range(3):
        total_loss = 0
        for input_tensor, target_tensor in loader:
            encoder_optimizer.zero_grad()
            decoder_optimizer.zero_grad()
            encoder_outputs, encoder_hidden = encoder(input_tensor)
            decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, target_tensor)
            loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))
            loss.backward()
            encoder_optimizer.step()
            decoder_optimizer.step()
            total_loss += loss.item()
        out["loss"].append(total_loss / len(loader))
    with T.no_grad():
        encoder_outputs, encoder_hidden = encoder(inputs[:1])
        decoder_outputs, decoder_hidden, attentions = decoder(encoder_outputs, encoder_hidden)
        _, topi = decoder_outputs.topk(1)
        decoded_ids = topi.squeeze()
    decoded_words = []
    for idx in decoded_ids:
        if idx.item() == EOS_token:
            decoded_words.append("<EOS>")
            break
        decoded_words.append(str(idx.item()))
    out["decoded"] = decoded_ids.numpy()
    out["decoded_words"] = " ".join(decoded_words)
    out["attentions"] = _np(attentions[0, : len(decoded_words), :])
    out["attention_rows_sum"] = _np(attentions.sum(-1))
    out["hidden_shape"] = list(decoder_hidden.shape)
    return out


def _seq2seq_fixed_attention(T, shared: dict) -> dict:
    """The tutorial's earlier form: one sentence at a time, the encoder's outputs written
    row by row into a zeros tensor, attention weights over MAX_LENGTH positions from a
    Linear, teacher forcing decided by a coin, stopping at EOS."""
    nn, F = T.nn, T.nn.functional
    SOS_token, EOS_token, MAX_LENGTH, hidden_size = 0, 1, 6, 8
    rng = np.random.default_rng(61)
    pairs = [(rng.integers(2, 10, size=4).tolist(), rng.integers(2, 9, size=3).tolist()) for _ in range(3)]
    coin = random.Random(61)

    class EncoderRNN(nn.Module):
        def __init__(self, input_size, hidden_size):
            super().__init__()
            self.hidden_size = hidden_size
            self.embedding = nn.Embedding(input_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size)

        def forward(self, input, hidden):
            embedded = self.embedding(input).view(1, 1, -1)
            return self.gru(embedded, hidden)

        def initHidden(self):
            return T.zeros(1, 1, self.hidden_size)

    class AttnDecoderRNN(nn.Module):
        def __init__(self, hidden_size, output_size, dropout_p=0.0, max_length=MAX_LENGTH):
            super().__init__()
            self.embedding = nn.Embedding(output_size, hidden_size)
            self.attn = nn.Linear(hidden_size * 2, max_length)
            self.attn_combine = nn.Linear(hidden_size * 2, hidden_size)
            self.dropout = nn.Dropout(dropout_p)
            self.gru = nn.GRU(hidden_size, hidden_size)
            self.out = nn.Linear(hidden_size, output_size)

        def forward(self, input, hidden, encoder_outputs):
            embedded = self.dropout(self.embedding(input).view(1, 1, -1))
            attn_weights = F.softmax(self.attn(T.cat((embedded[0], hidden[0]), 1)), dim=1)
            attn_applied = T.bmm(attn_weights.unsqueeze(0), encoder_outputs.unsqueeze(0))
            output = T.cat((embedded[0], attn_applied[0]), 1)
            output = F.relu(self.attn_combine(output).unsqueeze(0))
            output, hidden = self.gru(output, hidden)
            return F.log_softmax(self.out(output[0]), dim=1), hidden, attn_weights

    class Translator(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = EncoderRNN(10, hidden_size), AttnDecoderRNN(hidden_size, 9)

    model = _start(T, Translator(), shared)
    encoder, decoder = model.encoder, model.decoder
    encoder_optimizer = T.optim.SGD(encoder.parameters(), lr=0.05)
    decoder_optimizer = T.optim.SGD(decoder.parameters(), lr=0.05)
    criterion = nn.NLLLoss()

    def tensor_from_ids(ids):
        return T.tensor(ids + [EOS_token], dtype=T.long).view(-1, 1)

    def train(input_tensor, target_tensor, use_teacher_forcing):
        encoder_hidden = encoder.initHidden()
        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()
        input_length, target_length = input_tensor.size(0), target_tensor.size(0)
        encoder_outputs = T.zeros(MAX_LENGTH, encoder.hidden_size)
        loss = 0
        for ei in range(input_length):
            encoder_output, encoder_hidden = encoder(input_tensor[ei], encoder_hidden)
            encoder_outputs[ei] = encoder_output[0, 0]
        decoder_input = T.tensor([[SOS_token]])
        decoder_hidden = encoder_hidden
        for di in range(target_length):
            decoder_output, decoder_hidden, _ = decoder(decoder_input, decoder_hidden, encoder_outputs)
            loss += criterion(decoder_output, target_tensor[di])
            if use_teacher_forcing:
                decoder_input = target_tensor[di]
            else:
                topv, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze().detach()
                if decoder_input.item() == EOS_token:
                    break
        loss.backward()
        encoder_optimizer.step()
        decoder_optimizer.step()
        return loss.item() / target_length

    out: dict = {"loss": [], "forcing": []}
    for _ in range(2):
        for source, target in pairs:
            use_teacher_forcing = True if coin.random() < 0.5 else False
            out["forcing"].append(use_teacher_forcing)
            out["loss"].append(train(tensor_from_ids(source), tensor_from_ids(target), use_teacher_forcing))
    encoder_outputs = T.zeros(2, encoder.hidden_size)  # rows written by the graph: CopySlices
    encoder_outputs[0] = encoder(T.tensor([2]), encoder.initHidden())[0][0, 0]
    out["encoder_outputs_grad_fn"] = type(encoder_outputs.grad_fn).__name__
    return out


def test_seq2seq_translation_with_additive_attention() -> None:
    _both(_seq2seq_bahdanau)


def test_seq2seq_translation_with_attention_over_max_length() -> None:
    _both(_seq2seq_fixed_attention)


# ---- 7. "Language modeling with nn.Transformer": batchify, get_batch, StepLR, perplexity -----


def _transformer_lm(T, shared: dict) -> dict:
    nn = T.nn
    rng = np.random.default_rng(7)
    ntokens, d_model, bptt = 20, 8, 5
    train_data = T.from_numpy(rng.integers(0, ntokens, size=62))
    val_data = T.from_numpy(rng.integers(0, ntokens, size=23))

    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, dropout=0.1, max_len=50):
            super().__init__()
            self.dropout = nn.Dropout(p=dropout)
            position = T.arange(max_len).unsqueeze(1)
            div_term = T.exp(T.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
            pe = T.zeros(max_len, 1, d_model)
            pe[:, 0, 0::2] = T.sin(position * div_term)
            pe[:, 0, 1::2] = T.cos(position * div_term)
            self.register_buffer("pe", pe)

        def forward(self, x):
            x = x + self.pe[: x.size(0)]
            return self.dropout(x)

    class TransformerModel(nn.Module):
        def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, dropout=0.0):
            super().__init__()
            self.model_type = "Transformer"
            self.pos_encoder = PositionalEncoding(d_model, dropout)
            encoder_layers = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
            self.transformer_encoder = nn.TransformerEncoder(
                encoder_layers, nlayers, enable_nested_tensor=False
            )
            self.embedding = nn.Embedding(ntoken, d_model)
            self.d_model = d_model
            self.linear = nn.Linear(d_model, ntoken)
            self.init_weights()

        def init_weights(self):
            initrange = 0.1
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.linear.bias.data.zero_()
            self.linear.weight.data.uniform_(-initrange, initrange)

        def forward(self, src, src_mask=None):
            src = self.embedding(src) * math.sqrt(self.d_model)
            src = self.pos_encoder(src)
            output = self.transformer_encoder(src, src_mask)
            return self.linear(output)

    def batchify(data, bsz):
        seq_len = data.size(0) // bsz
        data = data[: seq_len * bsz]
        return data.view(bsz, seq_len).t().contiguous()

    def get_batch(source, i):
        seq_len = min(bptt, len(source) - 1 - i)
        data = source[i : i + seq_len]
        target = source[i + 1 : i + 1 + seq_len].reshape(-1)
        return data, target

    train_batches, val_batches = batchify(train_data, 3), batchify(val_data, 2)
    model = _start(T, TransformerModel(ntokens, d_model, 2, 16, 2, dropout=0.0), shared)
    criterion = nn.CrossEntropyLoss()
    optimizer = T.optim.SGD(model.parameters(), lr=0.5)
    scheduler = T.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)

    def evaluate(eval_model, eval_data):
        eval_model.eval()
        total_loss = 0.0
        with T.no_grad():
            for i in range(0, eval_data.size(0) - 1, bptt):
                data, targets = get_batch(eval_data, i)
                seq_len = data.size(0)
                output = eval_model(data)
                output_flat = output.view(-1, ntokens)
                total_loss += seq_len * criterion(output_flat, targets).item()
        return total_loss / (len(eval_data) - 1)

    out: dict = {"loss": [], "lr": [], "norm": [], "val_ppl": []}
    for _ in range(2):
        model.train()
        for i in range(0, train_batches.size(0) - 1, bptt):
            data, targets = get_batch(train_batches, i)
            src_mask = nn.Transformer.generate_square_subsequent_mask(data.size(0))
            output = model(data, src_mask)
            loss = criterion(output.view(-1, ntokens), targets)
            optimizer.zero_grad()
            loss.backward()
            out["norm"].append(float(T.nn.utils.clip_grad_norm_(model.parameters(), 0.5)))
            optimizer.step()
            out["loss"].append(loss.item())
        val_loss = evaluate(model, val_batches)
        out["val_ppl"].append(math.exp(val_loss))
        scheduler.step()
        out["lr"].append(scheduler.get_last_lr()[0])
    out["batches_shape"] = [list(train_batches.shape), list(val_batches.shape)]
    out["mask"] = _np(nn.Transformer.generate_square_subsequent_mask(4))
    out["pe"] = _np(model.pos_encoder.pe[:6, 0])
    out["buffers"] = [name for name, _ in model.named_buffers()]
    mask = (T.triu(T.ones(4, 4)) == 1).transpose(0, 1)  # the tutorial's earlier mask
    out["old_mask"] = _np(mask.float().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, 0.0))
    with tempfile.TemporaryDirectory() as tempdir:
        best_model_params_path = os.path.join(tempdir, "best_model_params.pt")
        T.save(model.state_dict(), best_model_params_path)
        reloaded = TransformerModel(ntokens, d_model, 2, 16, 2, dropout=0.0)
        out["reload"] = str(reloaded.load_state_dict(T.load(best_model_params_path)))
    out["reloaded_ppl"] = math.exp(evaluate(reloaded, val_batches))
    return out


def test_transformer_language_model() -> None:
    _both(_transformer_lm, rtol=2e-4, atol=2e-5)


# ---- 8. "Text classification": EmbeddingBag with offsets, a collate_fn, StepLR -----------------


def _text_classification(T, shared: dict) -> dict:
    nn = T.nn
    rng = np.random.default_rng(8)
    vocab_size, num_class = 30, 3
    dataset = [
        (int(rng.integers(1, 4)), rng.integers(0, vocab_size, size=int(rng.integers(2, 7))).tolist())
        for _ in range(12)
    ]

    def collate_batch(batch):
        label_list, text_list, offsets = [], [], [0]
        for _label, _text in batch:
            label_list.append(_label - 1)
            processed_text = T.tensor(_text, dtype=T.int64)
            text_list.append(processed_text)
            offsets.append(processed_text.size(0))
        label_list = T.tensor(label_list, dtype=T.int64)
        offsets = T.tensor(offsets[:-1]).cumsum(dim=0)
        text_list = T.cat(text_list)
        return label_list, text_list, offsets

    class TextClassificationModel(nn.Module):
        def __init__(self, vocab_size, embed_dim, num_class):
            super().__init__()
            self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
            self.fc = nn.Linear(embed_dim, num_class)
            self.init_weights()

        def init_weights(self):
            initrange = 0.5
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.fc.weight.data.uniform_(-initrange, initrange)
            self.fc.bias.data.zero_()

        def forward(self, text, offsets):
            return self.fc(self.embedding(text, offsets))

    model = _start(T, TextClassificationModel(vocab_size, 6, num_class), shared)
    num_train = int(len(dataset) * 0.75)
    split_train_, split_valid_ = T.utils.data.dataset.random_split(
        dataset, [num_train, len(dataset) - num_train]
    )
    out_split = [
        len(split_train_),
        len(split_valid_),
        sorted(split_train_.indices + split_valid_.indices) == list(range(12)),
    ]
    train_set, valid_set = dataset[:9], dataset[9:]  # the draws of random_split differ: a fixed split
    loader = T.utils.data.DataLoader(train_set, batch_size=4, shuffle=False, collate_fn=collate_batch)
    valid_loader = T.utils.data.DataLoader(valid_set, batch_size=4, collate_fn=collate_batch)
    criterion = nn.CrossEntropyLoss()
    optimizer = T.optim.SGD(model.parameters(), lr=5)
    scheduler = T.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
    out: dict = {"loss": [], "acc": [], "lr": [], "split": out_split}
    total_accu = None
    for _ in range(3):
        model.train()
        total_acc, total_count = 0, 0
        for label, text, offsets in loader:
            optimizer.zero_grad()
            predicted_label = model(text, offsets)
            loss = criterion(predicted_label, label)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            optimizer.step()
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
            out["loss"].append(loss.item())
        model.eval()
        with T.no_grad():
            accu_val = sum((model(t, o).argmax(1) == lbl).sum().item() for lbl, t, o in valid_loader) / 3
        if total_accu is not None and total_accu > accu_val:
            scheduler.step()
        else:
            total_accu = accu_val
        out["acc"].append([total_acc / total_count, accu_val])
        out["lr"].append(optimizer.param_groups[0]["lr"])
    # the other reductions of a bag, per-sample weights, a 2-d input of equal bags, padding_idx
    label, text, offsets = collate_batch(dataset[:4])
    weight = model.embedding.weight.detach()
    for mode in ("sum", "max"):
        bag = nn.EmbeddingBag.from_pretrained(weight, mode=mode, freeze=False)
        pooled = bag(text, offsets)
        pooled.pow(2).sum().backward()
        out[f"{mode}_pooled"], out[f"{mode}_grad"] = _np(pooled), _np(bag.weight.grad)
    per_sample_weights = T.from_numpy(rng.uniform(0, 1, size=len(text)).astype(np.float32)).requires_grad_()
    bag = nn.EmbeddingBag.from_pretrained(weight, mode="sum", freeze=False)
    pooled = bag(text, offsets, per_sample_weights=per_sample_weights)
    pooled.sum().backward()
    out["weighted"], out["psw_grad"] = _np(pooled), _np(per_sample_weights.grad)
    last = nn.EmbeddingBag.from_pretrained(weight, mode="mean", include_last_offset=True)
    out["last_offset"] = _np(last(text, T.cat([offsets, T.tensor([len(text)])])))
    padded = nn.EmbeddingBag.from_pretrained(weight, mode="mean", padding_idx=0)
    out["two_d"] = _np(padded(T.tensor([[0, 3, 4], [5, 0, 0], [0, 0, 0]])))
    with T.no_grad():
        out["predict"] = model(T.tensor([1, 2, 3, 4]), T.tensor([0])).argmax(1).item() + 1
    return out


def test_text_classification_with_embedding_bag() -> None:
    _both(_text_classification)


# ---- 9. "DCGAN": ConvTranspose2d generator, BatchNorm2d, BCELoss, weights_init by class name --


def _dcgan(T, shared: dict) -> dict:
    nn = T.nn
    rng = np.random.default_rng(9)
    nz, ngf, ndf, nc = 4, 4, 4, 1
    real_images = T.from_numpy(rng.uniform(-1, 1, size=(6, nc, 16, 16)).astype(np.float32))
    noises = [T.from_numpy(_floats(rng, 3, nz, 1, 1)) for _ in range(2)]
    fixed_noise = T.from_numpy(_floats(rng, 2, nz, 1, 1))

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
                nn.BatchNorm2d(ngf * 2),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
                nn.Tanh(),
            )

        def forward(self, input):
            return self.main(input)

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 2),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
                nn.Sigmoid(),
            )

        def forward(self, input):
            return self.main(input)

    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.netG, self.netD = Generator(), Discriminator()

    pair = Pair()
    pair.netG.apply(weights_init)
    pair.netD.apply(weights_init)
    _start(T, pair, shared)
    netG, netD = pair.netG, pair.netD
    criterion = nn.BCELoss()
    real_label, fake_label = 1.0, 0.0
    optimizerD = T.optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optimizerG = T.optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
    loader = T.utils.data.DataLoader(T.utils.data.TensorDataset(real_images), batch_size=3)
    out: dict = {"errD": [], "errG": [], "D_x": [], "D_G_z": []}
    for _epoch in range(1):
        for i, data in enumerate(loader, 0):
            netD.zero_grad()
            real_cpu = data[0]
            b_size = real_cpu.size(0)
            label = T.full((b_size,), real_label, dtype=T.float)
            output = netD(real_cpu).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()
            fake = netG(noises[i])
            label.fill_(fake_label)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()
            netG.zero_grad()
            label.fill_(real_label)
            output = netD(fake).view(-1)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()
            out["errD"].append(errD.item())
            out["errG"].append(errG.item())
            out["D_x"].append(D_x)
            out["D_G_z"].append([D_G_z1, D_G_z2])
    with T.no_grad():
        fake = netG(fixed_noise).detach().cpu()
    out["fake"] = _np(fake)
    out["fake_shape"] = list(fake.shape)
    out["running_mean"] = _np(netG.main[1].running_mean)
    out["label_dtype"] = str(label.dtype).split(".")[1]
    out["netG"], out["netD"] = repr(netG), repr(netD)
    return out


def test_dcgan_with_weights_init_by_class_name() -> None:
    _both(_dcgan)


# ---- 10. a VAE with a convolutional encoder and a transposed-convolution decoder -------------


def _conv_vae(T, shared: dict) -> dict:
    nn, F = T.nn, T.nn.functional
    rng = np.random.default_rng(10)
    images = T.from_numpy(rng.uniform(0, 1, size=(8, 1, 8, 8)).astype(np.float32))
    eps = [T.from_numpy(_floats(rng, 4, 2)) for _ in range(4)]

    class ConvVAE(nn.Module):
        def __init__(self, latent: int = 2):
            super().__init__()
            self.encoder = nn.Sequential(
                nn.Conv2d(1, 4, 3, stride=2, padding=1),  # 4x4
                nn.ReLU(),
                nn.Conv2d(4, 8, 3, stride=2, padding=1),  # 2x2
                nn.ReLU(),
                nn.Flatten(),
            )
            self.fc_mu, self.fc_var = nn.Linear(32, latent), nn.Linear(32, latent)
            self.decoder_input = nn.Linear(latent, 32)
            self.decoder = nn.Sequential(
                # no bias before the batch norm: its gradient is zero up to rounding noise,
                # which Adam would amplify into different steps in the two libraries
                nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1, bias=False),
                nn.BatchNorm2d(4),
                nn.LeakyReLU(),
                nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1),
                nn.Sigmoid(),
            )

        def encode(self, x):
            h = self.encoder(x)
            return self.fc_mu(h), self.fc_var(h)

        def decode(self, z):
            return self.decoder(self.decoder_input(z).view(-1, 8, 2, 2))

        def forward(self, x, eps):
            mu, log_var = self.encode(x)
            z = eps * T.exp(0.5 * log_var) + mu
            return self.decode(z), mu, log_var

    model = _start(T, ConvVAE(), shared)
    optimizer = T.optim.Adam(model.parameters(), lr=5e-3)
    scheduler = T.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95)
    loader = T.utils.data.DataLoader(T.utils.data.TensorDataset(images), batch_size=4)
    out: dict = {"loss": [], "kld": []}
    for epoch in range(2):
        model.train()
        for i, (x,) in enumerate(loader):
            recon, mu, log_var = model(x, eps[2 * epoch + i])
            recons_loss = F.binary_cross_entropy(recon, x, reduction="sum") / x.size(0)
            kld = T.mean(-0.5 * T.sum(1 + log_var - mu**2 - log_var.exp(), dim=1), dim=0)
            loss = recons_loss + 0.5 * kld
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            out["loss"].append(loss.item())
            out["kld"].append(kld.item())
        scheduler.step()
    model.eval()
    with T.no_grad():
        grid = T.stack(T.meshgrid(T.linspace(-1, 1, 3), T.linspace(-1, 1, 2), indexing="ij"), -1).view(-1, 2)
        out["decoded_grid"] = _np(model.decode(grid))
        mu, _ = model.encode(images[:3])
        out["mu"] = _np(mu)
    sample = model.decode(T.randn(5, 2))
    out["sample_shape"] = list(sample.shape)
    return out


def test_conv_vae() -> None:
    _both(_conv_vae)


# ---- 11. "Spatial transformer networks": a localization net in front of a classifier ----------


def _stn_classifier(T, shared: dict) -> dict:
    nn, F = T.nn, T.nn.functional
    rng = np.random.default_rng(11)
    images = T.from_numpy(rng.uniform(0, 1, size=(6, 1, 16, 16)).astype(np.float32))
    labels = T.from_numpy(rng.integers(0, 3, size=6))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, kernel_size=3)
            self.conv2 = nn.Conv2d(4, 6, kernel_size=3)
            self.conv2_drop = nn.Dropout2d()
            self.fc1 = nn.Linear(6 * 2 * 2, 10)
            self.fc2 = nn.Linear(10, 3)
            self.localization = nn.Sequential(
                nn.Conv2d(1, 4, kernel_size=5),
                nn.MaxPool2d(2, stride=2),
                nn.ReLU(True),
                nn.Conv2d(4, 5, kernel_size=3),
                nn.MaxPool2d(2, stride=2),
                nn.ReLU(True),
            )
            self.fc_loc = nn.Sequential(nn.Linear(5 * 2 * 2, 8), nn.ReLU(True), nn.Linear(8, 3 * 2))
            self.fc_loc[2].weight.data.zero_()
            self.fc_loc[2].bias.data.copy_(T.tensor([1, 0, 0, 0, 1, 0], dtype=T.float))

        def stn(self, x):
            xs = self.localization(x)
            xs = xs.view(-1, 5 * 2 * 2)
            theta = self.fc_loc(xs)
            theta = theta.view(-1, 2, 3)
            grid = F.affine_grid(theta, x.size(), align_corners=False)
            return F.grid_sample(x, grid, align_corners=False)

        def forward(self, x):
            x = self.stn(x)
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = x.view(-1, 6 * 2 * 2)
            x = F.relu(self.fc1(x))
            x = F.dropout(x, training=self.training)
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)

    model = _start(T, Net(), shared)
    optimizer = T.optim.SGD(model.parameters(), lr=0.05)
    out: dict = {"loss": []}
    model.eval()  # the dropouts draw in training: the steps are compared with them off
    for _ in range(3):
        optimizer.zero_grad()
        output = model(images)
        loss = F.nll_loss(output, labels)
        loss.backward()
        optimizer.step()
        out["loss"].append(loss.item())
    with T.no_grad():
        out["theta"] = _np(model.fc_loc(model.localization(images).view(-1, 20)).view(-1, 2, 3))
        out["warped"] = _np(model.stn(images))
        test_loss = F.nll_loss(model(images), labels, reduction="sum").item()
        pred = model(images).max(1, keepdim=True)[1]
        correct = pred.eq(labels.view_as(pred)).sum().item()
    out["test"] = [test_loss, correct]
    model.train()
    out["train_shape"] = list(model(images).shape)
    # the default align_corners of affine_grid and grid_sample, and the other padding modes
    theta = T.tensor([[[0.8, -0.3, 0.1], [0.2, 0.9, -0.2]]])
    grid = F.affine_grid(theta, [1, 1, 5, 5])
    out["default_grid"] = _np(grid)
    for mode, padding in (("bilinear", "zeros"), ("nearest", "reflection"), ("bicubic", "border")):
        out[f"{mode}_{padding}"] = _np(
            F.grid_sample(images[:1, :, :5, :5], grid, mode=mode, padding_mode=padding)
        )
    return out


def test_spatial_transformer_tutorial_network() -> None:
    _both(_stn_classifier)


# ---- 12. "Knowledge distillation": soft targets, cosine loss on hidden states, a feature regressor


def _knowledge_distillation(T, shared: dict) -> dict:
    nn, F = T.nn, T.nn.functional
    rng = np.random.default_rng(12)
    images = T.from_numpy(rng.standard_normal((8, 3, 8, 8)).astype(np.float32))
    labels = T.from_numpy(rng.integers(0, 4, size=8))

    class DeepNN(nn.Module):
        def __init__(self, num_classes=4):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 8, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.Conv2d(8, 8, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=2, stride=2),
            )
            self.classifier = nn.Sequential(
                nn.Linear(128, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, num_classes)
            )

        def forward(self, x):
            x = self.features(x)
            flattened_conv_output = T.flatten(x, 1)
            x = self.classifier(flattened_conv_output)
            flattened_conv_output_after_pooling = F.avg_pool1d(flattened_conv_output, 2)
            return x, flattened_conv_output_after_pooling

    class LightNN(nn.Module):
        def __init__(self, num_classes=4):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 4, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=2, stride=2),
            )
            self.classifier = nn.Sequential(
                nn.Linear(64, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, num_classes)
            )
            self.regressor = nn.Sequential(nn.Conv2d(4, 8, kernel_size=3, padding=1))

        def forward(self, x):
            x = self.features(x)
            regressor_output = self.regressor(x)
            flattened_conv_output = T.flatten(x, 1)
            x = self.classifier(flattened_conv_output)
            return x, flattened_conv_output, regressor_output

    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.teacher, self.student = DeepNN(), LightNN()

    pair = _start(T, Pair(), shared)
    teacher, student = pair.teacher, pair.student
    teacher.eval()
    student.eval()  # dropout off: the compared steps draw nothing
    ce_loss = nn.CrossEntropyLoss()
    cosine_loss = nn.CosineEmbeddingLoss()
    mse_loss = nn.MSELoss()
    kl_log = nn.KLDivLoss(reduction="batchmean", log_target=True)
    optimizer = T.optim.Adam(student.parameters(), lr=1e-3)
    temperature, soft_weight, ce_weight, hidden_weight = 2.0, 0.25, 0.75, 0.25
    out: dict = {"loss": [], "soft": [], "kl": [], "cosine": [], "mse": []}
    for _ in range(3):
        optimizer.zero_grad()
        with T.no_grad():
            teacher_logits, teacher_hidden = teacher(images)
            teacher_features = teacher.features(images)
        student_logits, student_hidden, regressor_out = student(images)
        soft_targets = F.softmax(teacher_logits / temperature, dim=-1)
        soft_prob = F.log_softmax(student_logits / temperature, dim=-1)
        soft_targets_loss = (
            T.sum(soft_targets * (soft_targets.log() - soft_prob)) / soft_prob.size()[0] * (temperature**2)
        )
        kl = kl_log(soft_prob, F.log_softmax(teacher_logits / temperature, dim=-1)) * temperature**2
        hidden_rep_loss = cosine_loss(student_hidden, teacher_hidden, target=T.ones(images.size(0)))
        feature_loss = mse_loss(regressor_out, teacher_features)
        label_loss = ce_loss(student_logits, labels)
        loss = (
            soft_weight * soft_targets_loss
            + ce_weight * label_loss
            + hidden_weight * (hidden_rep_loss + feature_loss)
        )
        loss.backward()
        optimizer.step()
        out["loss"].append(loss.item())
        out["soft"].append(soft_targets_loss.item())
        out["kl"].append(kl.item())
        out["cosine"].append(hidden_rep_loss.item())
        out["mse"].append(feature_loss.item())
    out["hidden_shapes"] = [list(teacher_hidden.shape), list(student_hidden.shape)]
    out["teacher_untouched"] = all(p.grad is None for p in teacher.parameters())
    with T.no_grad():
        _, predicted = T.max(student(images)[0].data, 1)
        out["correct"] = (predicted == labels).sum().item()
    dissimilar = nn.CosineEmbeddingLoss(margin=0.2, reduction="none")
    out["dissimilar"] = _np(dissimilar(student_hidden[:4], teacher_hidden[:4], T.tensor([1, -1, -1, 1])))
    out["kl_none"] = _np(
        nn.KLDivLoss(reduction="none", log_target=True)(soft_prob[:2], soft_prob.flip(0)[:2])
    )
    return out


def test_knowledge_distillation() -> None:
    _both(_knowledge_distillation)


# ---- 13. "Reinforcement learning (DQN)": replay memory of namedtuples, a non-final mask -------

Transition = namedtuple("Transition", ("state", "action", "next_state", "reward"))


class ReplayMemory:
    def __init__(self, capacity):
        self.memory: deque = deque([], maxlen=capacity)

    def push(self, *args):
        self.memory.append(Transition(*args))

    def sample(self, batch_size, rng):
        return rng.sample(self.memory, batch_size)

    def __len__(self):
        return len(self.memory)


def _dqn_tutorial(T, shared: dict) -> dict:
    nn = T.nn
    rng = np.random.default_rng(13)
    picker = random.Random(13)  # the same draws of transitions in both runs
    n_observations, n_actions = 4, 2
    BATCH_SIZE, GAMMA, TAU, LR = 6, 0.99, 0.005, 1e-3

    class DQN(nn.Module):
        def __init__(self, n_observations, n_actions):
            super().__init__()
            self.layer1 = nn.Linear(n_observations, 16)
            self.layer2 = nn.Linear(16, 16)
            self.layer3 = nn.Linear(16, n_actions)

        def forward(self, x):
            x = T.nn.functional.relu(self.layer1(x))
            x = T.nn.functional.relu(self.layer2(x))
            return self.layer3(x)

    policy_net = _start(T, DQN(n_observations, n_actions), shared)
    target_net = DQN(n_observations, n_actions)
    target_net.load_state_dict(policy_net.state_dict())
    optimizer = T.optim.AdamW(policy_net.parameters(), lr=LR, amsgrad=True)
    memory = ReplayMemory(20)

    def select_action(state):
        with T.no_grad():
            return policy_net(state).max(1).indices.view(1, 1)

    state = T.tensor(rng.standard_normal(4).astype(np.float32), dtype=T.float32).unsqueeze(0)
    for step in range(24):  # a pretend environment: terminal every seventh step
        action = select_action(state) if step % 2 else T.tensor([[step % n_actions]], dtype=T.long)
        observation = rng.standard_normal(4).astype(np.float32)
        reward = T.tensor([float(rng.uniform(-1, 1))])
        terminated = step % 7 == 6
        next_state = None if terminated else T.tensor(observation, dtype=T.float32).unsqueeze(0)
        memory.push(state, action, next_state, reward)
        state = T.tensor(rng.standard_normal(4).astype(np.float32)).unsqueeze(0) if terminated else next_state

    def optimize_model():
        transitions = memory.sample(BATCH_SIZE, picker)
        batch = Transition(*zip(*transitions))
        non_final_mask = T.tensor(tuple(map(lambda s: s is not None, batch.next_state)), dtype=T.bool)
        non_final_next_states = T.cat([s for s in batch.next_state if s is not None])
        state_batch = T.cat(batch.state)
        action_batch = T.cat(batch.action)
        reward_batch = T.cat(batch.reward)
        state_action_values = policy_net(state_batch).gather(1, action_batch)
        next_state_values = T.zeros(BATCH_SIZE)
        with T.no_grad():
            next_state_values[non_final_mask] = target_net(non_final_next_states).max(1).values
        expected_state_action_values = (next_state_values * GAMMA) + reward_batch
        criterion = nn.SmoothL1Loss()
        loss = criterion(state_action_values, expected_state_action_values.unsqueeze(1))
        optimizer.zero_grad()
        loss.backward()
        T.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
        optimizer.step()
        return loss.item(), non_final_mask.numpy()

    out: dict = {"loss": [], "masks": [], "actions": []}
    for _ in range(4):
        loss, mask = optimize_model()
        out["loss"].append(loss)
        out["masks"].append(mask)
        target_net_state_dict = target_net.state_dict()
        policy_net_state_dict = policy_net.state_dict()
        for key in policy_net_state_dict:
            target_net_state_dict[key] = policy_net_state_dict[key] * TAU + target_net_state_dict[key] * (
                1 - TAU
            )
        target_net.load_state_dict(target_net_state_dict)
        out["actions"].append(select_action(state).item())
    out["target"] = _np(target_net.layer3.weight)
    out["amsgrad_state"] = sorted(optimizer.state[policy_net.layer1.weight].keys())
    out["action_shape"] = list(select_action(state).shape)
    episode_durations = [float(10 + (7 * i) % 13) for i in range(120)]  # plot_durations' running mean
    durations_t = T.tensor(episode_durations, dtype=T.float)
    means = durations_t.unfold(0, 100, 1).mean(1).view(-1)
    out["running_mean"] = _np(T.cat((T.zeros(99), means)))
    return out


def test_dqn_tutorial_update() -> None:
    _both(_dqn_tutorial)


# ---- 15. "Language translation with nn.Transformer": padding and causal masks, greedy decoding


def _transformer_translation(T, shared: dict) -> dict:
    nn = T.nn
    from_rnn = nn.utils.rnn
    PAD_IDX, BOS_IDX, EOS_IDX = 1, 2, 3
    SRC_VOCAB, TGT_VOCAB, EMB = 14, 12, 8
    rng = np.random.default_rng(15)
    sentences = [
        (rng.integers(4, SRC_VOCAB, size=int(n)).tolist(), rng.integers(4, TGT_VOCAB, size=int(m)).tolist())
        for n, m in ((3, 4), (5, 2), (2, 3), (4, 4))
    ]

    class PositionalEncoding(nn.Module):
        def __init__(self, emb_size, dropout, maxlen=20):
            super().__init__()
            den = T.exp(-T.arange(0, emb_size, 2) * math.log(10000) / emb_size)
            pos = T.arange(0, maxlen).reshape(maxlen, 1)
            pos_embedding = T.zeros((maxlen, emb_size))
            pos_embedding[:, 0::2] = T.sin(pos * den)
            pos_embedding[:, 1::2] = T.cos(pos * den)
            pos_embedding = pos_embedding.unsqueeze(-2)
            self.dropout = nn.Dropout(dropout)
            self.register_buffer("pos_embedding", pos_embedding)

        def forward(self, token_embedding):
            return self.dropout(token_embedding + self.pos_embedding[: token_embedding.size(0), :])

    class TokenEmbedding(nn.Module):
        def __init__(self, vocab_size, emb_size):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, emb_size)
            self.emb_size = emb_size

        def forward(self, tokens):
            return self.embedding(tokens.long()) * math.sqrt(self.emb_size)

    class Seq2SeqTransformer(nn.Module):
        def __init__(
            self, num_encoder_layers, num_decoder_layers, emb_size, nhead, dim_feedforward, dropout=0.0
        ):
            super().__init__()
            self.transformer = nn.Transformer(
                d_model=emb_size,
                nhead=nhead,
                num_encoder_layers=num_encoder_layers,
                num_decoder_layers=num_decoder_layers,
                dim_feedforward=dim_feedforward,
                dropout=dropout,
            )
            self.generator = nn.Linear(emb_size, TGT_VOCAB)
            self.src_tok_emb = TokenEmbedding(SRC_VOCAB, emb_size)
            self.tgt_tok_emb = TokenEmbedding(TGT_VOCAB, emb_size)
            self.positional_encoding = PositionalEncoding(emb_size, dropout=dropout)

        def forward(
            self, src, trg, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, memory_key_padding_mask
        ):
            src_emb = self.positional_encoding(self.src_tok_emb(src))
            tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
            outs = self.transformer(
                src_emb,
                tgt_emb,
                src_mask,
                tgt_mask,
                None,
                src_padding_mask,
                tgt_padding_mask,
                memory_key_padding_mask,
            )
            return self.generator(outs)

        def encode(self, src, src_mask):
            return self.transformer.encoder(self.positional_encoding(self.src_tok_emb(src)), src_mask)

        def decode(self, tgt, memory, tgt_mask):
            return self.transformer.decoder(self.positional_encoding(self.tgt_tok_emb(tgt)), memory, tgt_mask)

    def generate_square_subsequent_mask(sz):
        mask = (T.triu(T.ones((sz, sz))) == 1).transpose(0, 1)
        return mask.float().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, 0.0)

    def create_mask(src, tgt):
        src_seq_len, tgt_seq_len = src.shape[0], tgt.shape[0]
        tgt_mask = generate_square_subsequent_mask(tgt_seq_len)
        src_mask = T.zeros((src_seq_len, src_seq_len)).type(T.bool)
        src_padding_mask = (src == PAD_IDX).transpose(0, 1)
        tgt_padding_mask = (tgt == PAD_IDX).transpose(0, 1)
        return src_mask, tgt_mask, src_padding_mask, tgt_padding_mask

    def collate_fn(batch):
        src_batch, tgt_batch = [], []
        for src_sample, tgt_sample in batch:
            src_batch.append(T.cat((T.tensor([BOS_IDX]), T.tensor(src_sample), T.tensor([EOS_IDX]))))
            tgt_batch.append(T.cat((T.tensor([BOS_IDX]), T.tensor(tgt_sample), T.tensor([EOS_IDX]))))
        return from_rnn.pad_sequence(src_batch, padding_value=PAD_IDX), from_rnn.pad_sequence(
            tgt_batch, padding_value=PAD_IDX
        )

    transformer = Seq2SeqTransformer(1, 1, EMB, 2, 16)
    for p in transformer.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)
    transformer = _start(T, transformer, shared)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD_IDX)
    optimizer = T.optim.Adam(transformer.parameters(), lr=0.01, betas=(0.9, 0.98), eps=1e-9)
    loader = T.utils.data.DataLoader(sentences, batch_size=2, collate_fn=collate_fn)
    out: dict = {"loss": []}
    for _ in range(2):
        transformer.train()
        losses = 0
        for src, tgt in loader:
            tgt_input = tgt[:-1, :]
            src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
            logits = transformer(
                src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, src_padding_mask
            )
            optimizer.zero_grad()
            tgt_out = tgt[1:, :]
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
            loss.backward()
            optimizer.step()
            losses += loss.item()
        out["loss"].append(losses / len(list(loader)))

    def greedy_decode(model, src, src_mask, max_len, start_symbol):
        memory = model.encode(src, src_mask)
        ys = T.ones(1, 1).fill_(start_symbol).type(T.long)
        for _ in range(max_len - 1):
            tgt_mask = generate_square_subsequent_mask(ys.size(0)).type(T.bool)
            out = model.decode(ys, memory, tgt_mask)
            out = out.transpose(0, 1)
            prob = model.generator(out[:, -1])
            _, next_word = T.max(prob, dim=1)
            next_word = next_word.item()
            ys = T.cat([ys, T.ones(1, 1).type_as(src.data).fill_(next_word)], dim=0)
            if next_word == EOS_IDX:
                break
        return ys

    transformer.eval()
    src = T.tensor([BOS_IDX] + sentences[0][0] + [EOS_IDX]).view(-1, 1)
    num_tokens = src.shape[0]
    src_mask = T.zeros(num_tokens, num_tokens).type(T.bool)
    out["translation"] = (
        greedy_decode(transformer, src, src_mask, max_len=num_tokens + 5, start_symbol=BOS_IDX)
        .flatten()
        .numpy()
    )
    with T.no_grad():
        src, tgt = collate_fn(sentences)
        masks = create_mask(src, tgt[:-1])
        out["eval_logits"] = _np(transformer(src, tgt[:-1], *masks, masks[2]))
    return out


def test_transformer_translation_with_masks_and_greedy_decoding() -> None:
    _both(_transformer_translation, rtol=2e-4, atol=2e-5)


# ---- findings, each pinned on its own ---------------------------------------------------------


def test_affine_grid_is_pytorchs_to_the_bit() -> None:
    """The grid's positions are rounded as PyTorch's kernel rounds them (a float32 linspace
    scaled by (n - 1) / n in two steps, then theta's columns added term by term): a position
    that lands on a half pixel one way and a hair below it the other moves what 'nearest'
    reads (found by the spatial transformer program)."""
    import torch

    F, tF = ember.nn.functional, torch.nn.functional
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        for align_corners in (False, True):
            for size in ([2, 1, 5, 5], [1, 1, 16, 16], [3, 2, 7, 3], [2, 1, 4, 5, 6], [1, 1, 1, 5]):
                nd = len(size) - 2
                theta = (np.round(rng.standard_normal((size[0], nd, nd + 1)) * 4) / 4).astype(dtype)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the unit-size grid's warning
                    ours = F.affine_grid(ember.from_numpy(theta), size, align_corners=align_corners)
                    theirs = tF.affine_grid(torch.from_numpy(theta), size, align_corners=align_corners)
                np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=f"{size} {align_corners}")
    theta = [[[0.8, -0.3, 0.1], [0.2, 0.9, -0.2]]]  # y = 0.6 one way, 0.59999996 the other
    image = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5)
    picked = [
        L.nn.functional.grid_sample(
            L.from_numpy(image),
            L.nn.functional.affine_grid(L.tensor(theta), [1, 1, 5, 5], align_corners=False),
            mode="nearest",
            align_corners=False,
        ).numpy()
        for L in (ember, torch)
    ]
    np.testing.assert_array_equal(*picked)
    theta_grad = ember.tensor(theta, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda t: F.affine_grid(t, [1, 1, 3, 4], align_corners=False), (theta_grad,)
    )
    assert ember.autograd.gradgradcheck(
        lambda t: F.affine_grid(t, [1, 1, 3, 4], align_corners=True).pow(2), (theta_grad,)
    )


def test_generator_lives_on_the_cpu() -> None:
    """`torch.Generator(device=...)` and its `.device`, as the name-classification tutorial
    splits its data with; another device raises ember's device error."""
    import torch

    for where in ("cpu", "cpu:0", ember.device("cpu")):
        generator = ember.Generator(device=where)
        assert generator.device == ember.device("cpu") and str(generator.device) == str(
            torch.Generator(device=str(where)).device
        )
    assert repr(ember.default_generator.device) == repr(torch.default_generator.device)
    with pytest.raises(RuntimeError, match="ember runs on the CPU only; device 'cuda' is not available"):
        ember.Generator(device="cuda")


def test_legacy_size_average_warning_names_the_reduction() -> None:
    """The spatial transformer tutorial's older test loop sums with `size_average=False`:
    the deprecation warning names the reduction to use instead, as PyTorch's does."""
    import torch

    logp = [L.log_softmax(L.arange(6.0).view(2, 3), 1) for L in (ember, torch)]
    for legacy in ({"size_average": False}, {"reduce": False}, {"size_average": True}, {"reduce": True}):
        messages = []
        for L, x in zip((ember, torch), logp):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                L.nn.functional.nll_loss(x, L.tensor([0, 2]), **legacy)
                L.nn.NLLLoss(**legacy)
            messages.append([str(w.message) for w in caught])
        assert messages[0] == messages[1] and len(messages[0]) == 2, legacy


_MULTINOMIAL_CALLS = [
    ([0.0, 0.0], 2, True),
    ([-1.0, 2.0], 2, True),
    ([1.0, float("nan")], 2, True),
    ([1.0, float("inf")], 2, True),
    ([1.0, float("inf")], 1, False),
    ([float("inf"), float("inf")], 1, True),
    ([[1.0, 0.0], [0.0, 0.0]], 1, False),
    ([[1.0, 0.0], [0.0, 0.0]], 2, True),
    ([1.0, 1.0], 3, False),
    ([1.0, 1.0], 0, True),
    ([1.0, 1.0], -1, False),
    ([1.0, 1.0], True, True),
    ([[[1.0, 1.0]]], 1, False),
    (1.0, 1, False),
    ([1, 2], 1, False),
    ([True, False], 1, False),
    ([], 1, False),
]


@pytest.mark.parametrize("weights, n, replacement", _MULTINOMIAL_CALLS)
def test_multinomial_refuses_as_pytorch(weights, n, replacement) -> None:
    """The char-RNN generator samples its next letter with torch.multinomial: its errors
    are PyTorch's (which differ between the paths with and without replacement), not
    NumPy's ValueErrors."""
    import torch

    ours, theirs = (
        outcome(L, lambda L: L.multinomial(L.tensor(weights), n, replacement)) for L in (ember, torch)
    )
    assert ours[0] == theirs[0] == "raise"
    assert type(ours[1]) is type(theirs[1]) and str(ours[1]) == str(theirs[1])


def test_multinomial_draws_in_proportion() -> None:
    """Without replacement each row's categories come at most once, the zero-weight ones
    last once the others are used up (PyTorch does not raise there); the first draw, and
    every draw with replacement, follow the weights."""
    weights = ember.tensor([[1.0, 0.0, 3.0, 0.0, 4.0]]).expand(4000, 5)
    ember.manual_seed(0)
    drawn = ember.multinomial(weights, 5).numpy()
    assert drawn.shape == (4000, 5) and (np.sort(drawn, 1) == np.arange(5)).all()
    assert set(map(tuple, drawn[:, 3:])) == {(1, 3)}  # zero weights last, in index order
    first = np.bincount(drawn[:, 0], minlength=5) / 4000
    np.testing.assert_allclose(first, [0.125, 0, 0.375, 0, 0.5], atol=0.03)
    second_after_4 = np.bincount(drawn[drawn[:, 0] == 4, 1], minlength=5)  # 1 : 3 between 0 and 2
    assert abs(second_after_4[2] / second_after_4.sum() - 0.75) < 0.05
    repeated = ember.multinomial(ember.tensor([0.5, 0.0, 1.5]), 8000, replacement=True).numpy()
    np.testing.assert_allclose(np.bincount(repeated, minlength=3) / 8000, [0.25, 0, 0.75], atol=0.02)
    assert ember.multinomial(ember.ones(0, 3), 2).shape == (0, 2)
    assert ember.tensor([0.2, 0.8], dtype=ember.float64).multinomial(1).dtype == ember.int64
    generator = ember.Generator().manual_seed(3)
    again = ember.Generator().manual_seed(3)
    same = [ember.multinomial(weights[:3], 2, generator=g).tolist() for g in (generator, again)]
    assert same[0] == same[1]


@pytest.mark.parametrize(
    "weights, n, replacement",
    [([0.0, 0.0], 1, True), ([-1.0, 2.0], 2, True), ([1.0, float("nan")], 2, True), ([1.0, 2.0], 3, False)],
)
def test_weighted_random_sampler_refuses_as_pytorch(weights, n, replacement) -> None:
    """WeightedRandomSampler draws with multinomial, so its errors are PyTorch's too."""
    import torch

    ours, theirs = (
        outcome(L, lambda L: list(L.utils.data.WeightedRandomSampler(weights, n, replacement)))
        for L in (ember, torch)
    )
    assert ours[0] == theirs[0] == "raise"
    assert type(ours[1]) is type(theirs[1]) and str(ours[1]) == str(theirs[1])
    ember.manual_seed(0)
    past_zeros = list(ember.utils.data.WeightedRandomSampler([0.0, 1.0, 3.0], 3, replacement=False))
    assert sorted(past_zeros[:2]) == [1, 2] and past_zeros[2] == 0


def test_binary_cross_entropy_of_probabilities_near_zero() -> None:
    """The DCGAN's BCELoss on a discriminator's confident outputs: log(1 - x) is taken as
    log1p(-x), as PyTorch's kernel does (log(1 - x) in float32 is 1% off at x = 1e-6), and
    x = t = 0 gives +0; the target's gradient is -logit(x)."""
    import torch

    x = np.array([1e-6, 3e-5, 0.01, 0.3, 0.7, 0.999, 0.0, 1.0, 0.5], np.float32)
    t = np.array([0.0, 0.0, 0.0, 0.2, 1.0, 0.5, 0.0, 1.0, 0.5], np.float32)
    results = []
    for L in (ember, torch):
        xs, ts = L.from_numpy(x.copy()).requires_grad_(), L.from_numpy(t.copy()).requires_grad_()
        loss = L.nn.functional.binary_cross_entropy(xs, ts, reduction="none")
        loss.sum().backward()
        results.append((loss.detach().numpy(), xs.grad.numpy(), ts.grad.numpy()))
    (loss, gx, gt), (their_loss, their_gx, their_gt) = results
    np.testing.assert_allclose(loss, their_loss, rtol=1e-6, atol=0)
    assert np.signbit(loss[6]) == np.signbit(their_loss[6])
    np.testing.assert_allclose(gx, their_gx, rtol=1e-6)
    np.testing.assert_allclose(gt, their_gt, rtol=1e-6)
    p = ember.tensor([1e-4, 0.2, 0.9], dtype=ember.float64, requires_grad=True)
    target = ember.tensor([0.1, 0.3, 0.8], dtype=ember.float64, requires_grad=True)
    bce = ember.nn.functional.binary_cross_entropy
    assert ember.autograd.gradcheck(bce, (p, target))
    assert ember.autograd.gradgradcheck(bce, (p, target))


def test_numpy_functions_of_a_tensor_give_a_tensor() -> None:
    """NumPy's functions run on a Tensor hand back a Tensor, as PyTorch's (its
    `__array_wrap__`): the DCGAN and spatial-transformer tutorials show images with
    `np.transpose(grid, (1, 2, 0))`, and code goes on with `np.exp(t)`, `np.clip(t, 0, 1)`.
    A bool result stays bool (PyTorch's turns it into uint8, a workaround from before it
    had bool tensors)."""
    import torch

    calls = [
        lambda L: np.transpose(L.arange(12.0).view(3, 2, 2), (1, 2, 0)),
        lambda L: np.clip(L.arange(4.0), 0, 1),
        lambda L: np.exp(L.arange(4.0)),
        lambda L: np.sqrt(L.arange(4)),
        lambda L: np.add(L.arange(4.0), 1),
        lambda L: np.matmul(L.arange(4.0), L.arange(4.0)),
        lambda L: np.argmax(L.arange(4.0)),
        lambda L: np.cumsum(L.arange(4.0).view(2, 2), axis=1),
    ]
    for call in calls:
        ours, theirs = call(ember), call(torch)
        assert isinstance(ours, ember.Tensor) and isinstance(theirs, torch.Tensor)
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    flags = np.isnan(ember.tensor([0.0, float("nan")]))
    assert isinstance(flags, ember.Tensor) and flags.dtype == ember.bool and flags.tolist() == [False, True]
    with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
        np.exp(ember.ones(2, requires_grad=True))


def test_affine_grid_node_is_pytorchs() -> None:
    """affine_grid is one AffineGridGeneratorBackward0 node, with PyTorch's saved fields and
    edges, saving no tensor: a second backward without retain_graph runs, as PyTorch's."""
    import torch

    nodes = []
    for L in (ember, torch):
        theta = L.tensor([[[1.0, 0.2, 0.1], [0.0, 0.9, -0.3]]], requires_grad=True)
        grid = L.nn.functional.affine_grid(theta, [1, 1, 3, 4], align_corners=False)
        node = grid.grad_fn
        nodes.append(
            (node.name(), tuple(node._saved_size), node._saved_align_corners, len(node.next_functions))
        )
        total = grid.sum()
        total.backward()
        total.backward()  # nothing saved, nothing freed
        nodes.append(theta.grad.numpy().round(4).tolist())
    assert nodes[:2] == nodes[2:]


class _StuckRandom:
    """A NumPy generator stand-in whose uniform draws are all the largest double below 1."""

    def random(self, shape):
        return np.full(shape, np.nextafter(1.0, 0.0))


def test_multinomial_with_replacement_never_draws_a_trailing_zero_weight() -> None:
    """The cumulative weights of [w..., 0] can end below 1 before the zero (here at
    1 - 2**-53); dividing them by their end, as PyTorch's kernel does, brings the last
    positive category to 1, so even the largest uniform draw stays off the zero weight."""
    weights = [0.6704675101784022, 0.41730480236712697, 0.5586898284457517]
    weights += [0.14038693859523377, 0.1981014890848788, 0.0]
    assert np.cumsum(np.array(weights) / sum(weights))[-2] < 1  # the rounding this is about
    generator = ember.Generator()
    generator.rng = _StuckRandom()
    drawn = ember.multinomial(ember.tensor(weights, dtype=ember.float64), 3, True, generator=generator)
    assert drawn.tolist() == [4, 4, 4]


@pytest.mark.parametrize("n, replacement", [(1, False), (1, True), (5, True)])
def test_multinomial_seeded_draws_are_numpy_choices_as_before(n, replacement) -> None:
    """Seeded runs keep their samples: a single draw (the char-RNN's multinomial(p, 1)) and
    draws with replacement are those of NumPy's choice on the generator's stream, which ember
    used before multinomial took PyTorch's errors."""
    weights = np.random.default_rng(0).random((3, 7)) ** 3
    weights[:, 2] = 0
    generator = ember.Generator().manual_seed(7)
    drawn = ember.multinomial(ember.tensor(weights), n, replacement, generator=generator)
    rng = np.random.Generator(np.random.PCG64(7))
    expected = [rng.choice(7, n, replace=replacement, p=w / w.sum()) for w in weights]
    assert drawn.tolist() == np.array(expected).tolist()


@pytest.mark.parametrize(
    "shape, n, replacement", [((0,), 2, True), ((2, 0), 2, True), ((0, 0), 2, True), ((0, 3), 5, True)]
)
def test_multinomial_of_no_categories_as_pytorch(shape, n, replacement) -> None:
    """Weights with no categories give PyTorch's RuntimeError (there is no probability to
    draw with), not a NumPy reshape error; an empty batch gives an empty result."""
    import torch

    ours, theirs = (
        outcome(L, lambda L: L.multinomial(L.ones(shape), n, replacement)) for L in (ember, torch)
    )
    assert ours[0] == theirs[0]
    if ours[0] == "raise":
        assert type(ours[1]) is type(theirs[1]) and str(ours[1]) == str(theirs[1])
    else:
        assert ours[1].shape == tuple(theirs[1].shape)


def test_affine_grid_of_float16_is_pytorchs_to_the_bit() -> None:
    """A float16 grid is summed in float32 and rounded once, as PyTorch's kernel accumulates
    float16 (its positions are float16 linspaces still); rounding each term to float16 gave
    another grid in every size tried."""
    import torch

    rng = np.random.default_rng(1)
    for align_corners in (False, True):
        for size in ([2, 1, 5, 7], [1, 3, 28, 28], [2, 1, 3, 5, 9]):
            nd = len(size) - 2
            theta = rng.standard_normal((size[0], nd, nd + 1)).astype(np.float16)
            ours, theirs = (
                L.nn.functional.affine_grid(L.from_numpy(theta), size, align_corners=align_corners)
                for L in (ember, torch)
            )
            assert ours.dtype == ember.float16
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=f"{size} {align_corners}")


def test_generator_of_device_none_is_a_cpu_generator() -> None:
    """Generator(device=None), which helpers passing their own device=None default write,
    is PyTorch's CPU generator, not an invalid device."""
    import torch

    assert repr(ember.Generator(device=None).device) == repr(torch.Generator(device=None).device)


@pytest.mark.parametrize("legacy", [{"size_average": 0}, {"reduce": 0}, {"size_average": 1, "reduce": 0}])
def test_size_average_and_reduce_are_read_by_truth_as_pytorch(legacy) -> None:
    """PyTorch reads the legacy pair by truth: size_average=0 sums and reduce=0 does not
    reduce, for the functions and the modules, with the warning naming that reduction."""
    import torch

    results = []
    for L in (ember, torch):
        x, t = L.tensor([1.0, 2.0]), L.tensor([0.0, 0.0])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = [L.nn.functional.mse_loss(x, t, **legacy), L.nn.MSELoss(**legacy)(x, t)]
        results.append(([v.tolist() for v in values], [str(w.message) for w in caught]))
    assert results[0] == results[1]


@pytest.mark.parametrize("legacy", [{"size_average": True}, {"reduce": True}])
def test_kl_div_legacy_mean_warns_once_as_pytorch(legacy) -> None:
    """kl_div's 'mean' warning is for reduction='mean' asked for by name: the legacy pair
    selecting the mean gives only its own deprecation warning, as in PyTorch."""
    import torch

    messages = []
    for L in (ember, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            L.nn.functional.kl_div(L.tensor([-0.3, -0.6]), L.tensor([0.5, 0.5]), **legacy)
        messages.append([str(w.message) for w in caught])
    assert messages[0] == messages[1] and len(messages[0]) == 1

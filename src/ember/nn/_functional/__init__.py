"""The parts of `ember.nn.functional`, split by meaning; import them from there.

activation.py     relu, gelu, softplus, softmax, ... (in-place variants included)
layers.py         linear, bilinear, the dropouts (alpha dropout included), embedding, one_hot
pooling.py        lp_pool1d/2d/3d, max_unpool1d/2d/3d, the *_with_indices names of max pooling
toplevel.py       the forms torch also has at its top level: torch.max_pool2d, torch.dropout, ...
normalization.py  layer_norm, batch_norm, group_norm, instance_norm, normalize, cosine_similarity, ...
loss.py           mse_loss, cross_entropy, binary_cross_entropy_with_logits, ...
attention.py      scaled_dot_product_attention
multi_head_attention.py  multi_head_attention_forward, the computation of nn.MultiheadAttention
embedding_bag.py  embedding_bag: sums, means or maxima of embedding rows over bags of indices
loss_ctc.py       ctc_loss (its forward-backward recursion is ember.ops.ctc)
"""

"""torch.backends.cuda.matmul for a CPU-only ember: the precision flags of CUDA's matrix
products, with PyTorch's defaults. They can be set and read and change nothing: ember's
float32 products are NumPy's, always in full float32 precision."""

allow_tf32 = False
allow_fp16_reduced_precision_reduction = True
allow_bf16_reduced_precision_reduction = True
allow_fp16_accumulation = False
fp32_precision = "none"

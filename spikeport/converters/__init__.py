"""Float spec + weights -> Loihi fixed point (quantizer and its report), fixed-point network -> Lava graph, NIR import/export."""

"""The harness: runs every pattern both ways, checks the outputs agree, measures the cost."""

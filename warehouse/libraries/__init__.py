"""The thematic libraries (人口综合库, 法人综合库, 电子证照库) fused from live staged rows, with
lineage per value, and the cross-department consistency findings."""
